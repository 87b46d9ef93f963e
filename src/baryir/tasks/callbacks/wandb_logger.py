"""Lightning's W&B logger that runs offline when no credentials are configured."""

from __future__ import annotations

import logging
import netrc
import os
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import WandbLogger

__all__ = ["OfflineFallbackWandbLogger", "wandb_mode"]

log = logging.getLogger(__name__)

WANDB_HOST = "api.wandb.ai"


def wandb_mode() -> str | None:
    """The W&B mode to force: ``"offline"`` when no credentials exist, else None (leave to W&B).

    ``WANDB_MODE`` is respected when set; otherwise W&B goes online only with ``WANDB_API_KEY``
    or a ``~/.netrc`` (``$NETRC``) entry for ``api.wandb.ai``, so a run never waits on a login.
    """
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY"):
        return None
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        if path.is_file() and netrc.netrc(path).authenticators(WANDB_HOST):
            return None
    except (OSError, netrc.NetrcParseError):
        log.warning("could not read %s; W&B runs offline", path)
    return "offline"


class OfflineFallbackWandbLogger(WandbLogger):
    """Lightning's ``WandbLogger`` that runs offline when no W&B credentials are configured.

    Takes ``WandbLogger``'s arguments. The decision (:func:`wandb_mode`) is made when the run
    starts; sync an offline run later with ``wandb sync <save_dir>/wandb/offline-run-*``.
    """

    @property
    def experiment(self) -> Any:
        if self._experiment is None and not self._offline:
            mode = wandb_mode()
            if mode is not None:
                log.info("no W&B credentials (WANDB_API_KEY, ~/.netrc): W&B runs %s", mode)
                self._wandb_init.setdefault("mode", mode)
        return super().experiment
