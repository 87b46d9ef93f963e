"""``baryir export CKPT OUT.safetensors``: a training checkpoint's network as safetensors + JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="baryir export", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="Lightning .ckpt written by baryir fit")
    parser.add_argument(
        "output", help="output .safetensors (a .json with the config is written beside it)"
    )
    args = parser.parse_args(list(argv))
    from baryir.commands.loading import load_model
    from baryir.io.checkpoint import export_weights
    from baryir.models import model_config

    try:
        model, name = load_model(args.checkpoint)
        export_weights(model.state_dict(), args.output, name, model_config(model))
    except (OSError, ValueError) as error:
        print(f"baryir export: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0
