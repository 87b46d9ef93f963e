"""``RNGStateCallback``: a resumed run draws the random numbers an uninterrupted one would.

It stores the global random states (torch, CUDA, NumPy, Python) in every checkpoint and restores
them when training resumes, so the random crops, degradations and Sinkhorn subsampling after a
resume are the ones an uninterrupted run would have drawn. The ``baryir`` command adds it to
every run.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer

__all__ = ["RNGStateCallback", "collect_rng_states", "set_rng_states"]

log = logging.getLogger(__name__)


def collect_rng_states() -> dict[str, Any]:
    """The global random states as tensors and primitives (loadable with ``weights_only=True``)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "torch.cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore states from :func:`collect_rng_states` (CUDA states only where CUDA is present)."""
    torch.set_rng_state(states["torch"])
    if states.get("torch.cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["torch.cuda"])
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    version, state, gauss = states["python"]
    random.setstate((version, tuple(state), gauss))


class RNGStateCallback(Callback):
    """Save the global RNG states in each checkpoint; restore them when training resumes.

    The states are captured when the checkpoint is written and applied at ``on_train_start``
    (after any sanity check), i.e. right before the first resumed batch is drawn. Under DDP
    every rank's states are gathered into the file (``{"ranks": [...]}``, one entry a rank) and
    each rank restores its own; a file from another number of ranks (or from before) restores
    rank 0's states on rank 0 only. With ``num_workers > 0`` the workers' seeds come from the
    epoch's start, so augmentations after a mid-epoch resume differ.
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None
        self._world_size = 1

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._world_size = trainer.world_size

    def state_dict(self) -> dict[str, Any]:
        states = collect_rng_states()
        if self._world_size < 2 or not torch.distributed.is_initialized():
            return states
        gathered: list[Any] = [None] * self._world_size
        torch.distributed.all_gather_object(gathered, states)  # every rank saves: a collective
        return {"ranks": gathered}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict or None

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        ranks = pending.get("ranks")
        if ranks is not None and len(ranks) == trainer.world_size:
            mine = ranks[trainer.global_rank]
        elif trainer.global_rank == 0:
            mine = ranks[0] if ranks is not None else pending
        else:
            return  # states of another number of ranks: the other ranks keep their seeds
        set_rng_states(mine)
        log.info("restored the random number generator states from the checkpoint")
