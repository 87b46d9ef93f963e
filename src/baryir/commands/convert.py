"""``baryir convert RELEASED OUT``: turn the authors' released weights into baryir's format."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="baryir convert", description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", help="released checkpoint (.pth/.pt/.ckpt; raw or wrapped state dict)"
    )
    parser.add_argument(
        "output", help="output .safetensors (a .json with the config is written beside it)"
    )
    parser.add_argument(
        "--arch", default=None, help="network of the checkpoint (default: recognised from its keys)"
    )
    args = parser.parse_args(list(argv))
    from baryir.models.official import convert_official_checkpoint

    try:
        convert_official_checkpoint(args.source, args.output, arch=args.arch)
    except (OSError, ValueError, KeyError) as error:
        print(f"baryir convert: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0
