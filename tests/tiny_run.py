"""Command lines for short runs of the tiny test config (``tests/conf/tiny.yaml``)."""

from __future__ import annotations

from pathlib import Path

TINY = Path(__file__).resolve().parent / "conf" / "tiny.yaml"


def tiny_fit_args(root: Path, max_steps: int, *extra: str) -> list[str]:
    """``baryir fit`` arguments: the tiny config for ``max_steps``, logs under ``root`` and
    checkpoints in ``root/ckpt``, then ``extra`` (later options override earlier ones)."""
    return [
        "fit",
        "--config",
        str(TINY),
        "--trainer.max_steps",
        str(max_steps),
        "--trainer.default_root_dir",
        str(root),
        "--trainer.logger.init_args.save_dir",
        str(root),
        "--trainer.callbacks.init_args.dirpath",
        str(root / "ckpt"),
        *extra,
    ]
