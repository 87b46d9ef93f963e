"""``baryir export CKPT OUT.safetensors``: a training checkpoint's network as safetensors + JSON."""

from __future__ import annotations

from pathlib import Path


def run(checkpoint: Path, output: Path) -> int:
    """Write the network of a training checkpoint as .safetensors plus its JSON config.

    Args:
        checkpoint: Lightning .ckpt written by baryir fit (or any file load_model reads).
        output: output .safetensors (a .json with the config is written beside it).
    """
    from baryir.models import export_model, load_model

    export_model(load_model(checkpoint), output)
    print(f"wrote {output}")
    return 0
