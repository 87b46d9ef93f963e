"""``baryir app --ckpt CKPT``: a local web page that restores the photos dropped on it."""

from __future__ import annotations

from pathlib import Path

from jsonargparse.typing import NonNegativeInt, PositiveFloat, PositiveInt

from baryir.commands import DEFAULT_DEVICE, check_device


def run(
    *,
    ckpt: list[Path] | None = None,
    runs: Path = Path("runs"),
    host: str = "127.0.0.1",
    port: NonNegativeInt = 7860,
    device: str = DEFAULT_DEVICE,
    max_upload_mb: PositiveInt = 50,
    max_pixels: PositiveInt = 36_000_000,
    queue_size: PositiveInt = 8,
    keep_files: PositiveFloat = 900.0,
) -> int:
    """Serve a page where a dropped photo is restored (as baryir restore does) beside the original.

    Needs pip install 'baryir[app]'. Stop it with Ctrl-C or SIGTERM (its files are removed).

    Args:
        ckpt: checkpoints to offer (a .ckpt of baryir fit, an exported .safetensors, a Hub
            folder or the authors' released .pt); default: every one found under --runs.
        runs: folder searched for checkpoints when --ckpt is not given.
        host: address to bind (127.0.0.1: this machine only; 0.0.0.0 shares it on the network).
        port: port to serve on (0: a free one).
        device: where the network runs (one photo at a time).
        max_upload_mb: largest upload accepted (MB).
        max_pixels: largest image accepted (pixels), refused before it is decoded.
        queue_size: photos that may wait while one is restored; past that: busy, try again.
        keep_files: seconds each request's files (upload, previews, result) are kept.
    """
    try:
        from baryir.app import AppLimits, find_checkpoints, serve
    except ImportError as error:
        raise ImportError(f"{error}; pip install 'baryir[app]'") from None
    check_device(device)
    checkpoints = list(ckpt or find_checkpoints(runs))
    missing = [p for p in checkpoints if not p.exists()]
    if missing:
        raise FileNotFoundError(f"checkpoint not found: {missing[0]}")
    if not checkpoints:
        raise FileNotFoundError(f"no checkpoint under {runs}/: train one or pass --ckpt")
    limits = AppLimits(max_upload_mb, max_pixels, queue_size, keep_files)
    stopped_by = serve(checkpoints, device, host, port or None, limits)
    print(f"baryir app: stopped by {stopped_by or 'the server'}; its temporary files are removed")
    return 0
