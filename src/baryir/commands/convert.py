"""``baryir convert RELEASED OUT``: turn the authors' released weights into baryir's format."""

from __future__ import annotations

from pathlib import Path
from typing import Literal


def run(
    source: Path, output: Path, *, arch: Literal["barynet", "promptir", "potentials"] | None = None
) -> int:
    """Convert the authors' released weights to a .safetensors file plus its JSON config.

    Args:
        source: released checkpoint (.pth/.pt): the release's whole pickled modules
            ({"BaryIR": net, "Pots": potentials}, read without running their code) or a raw
            or wrapped state dict.
        output: output .safetensors (a .json with the config is written beside it).
        arch: network of the checkpoint (default: recognised from its keys).
    """
    from baryir.models import convert_official_checkpoint

    convert_official_checkpoint(source, output, arch=arch)
    print(f"wrote {output}")
    return 0
