"""``baryir app --ckpt CKPT``: a local web page that restores the photos dropped on it."""

from __future__ import annotations

from pathlib import Path

from jsonargparse.typing import NonNegativeInt

from baryir.commands import DEFAULT_DEVICE, check_device


def run(
    *,
    ckpt: list[Path] | None = None,
    runs: Path = Path("runs"),
    host: str = "127.0.0.1",
    port: NonNegativeInt = 7860,
    device: str = DEFAULT_DEVICE,
) -> int:
    """Serve a page where a dropped photo is restored (as baryir restore does) beside the original.

    Needs pip install 'baryir[app]'. Stop it with Ctrl-C.

    Args:
        ckpt: checkpoints to offer (a .ckpt of baryir fit, an exported .safetensors, a Hub
            folder or the authors' released .pt); default: every one found under --runs.
        runs: folder searched for checkpoints when --ckpt is not given.
        host: address to bind (127.0.0.1: this machine only; 0.0.0.0 shares it on the network).
        port: port to serve on (0: a free one).
        device: where the network runs.
    """
    try:
        from baryir.app import build_app, find_checkpoints
    except ImportError as error:
        raise ImportError(f"{error}; pip install 'baryir[app]'") from None
    check_device(device)
    checkpoints = list(ckpt or find_checkpoints(runs))
    missing = [p for p in checkpoints if not p.exists()]
    if missing:
        raise FileNotFoundError(f"checkpoint not found: {missing[0]}")
    if not checkpoints:
        raise FileNotFoundError(f"no checkpoint under {runs}/: train one or pass --ckpt")
    page = build_app(checkpoints, device)
    page.launch(server_name=host, server_port=port or None, show_error=True)
    return 0
