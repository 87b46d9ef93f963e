"""``StudyRunCallback``: the same batches in every arm of a study's seed.

:func:`baryir.study.training.fit_config` adds it to every run's ``baryir fit`` config (by
``class_path``: ``baryir.study.run_callback.StudyRunCallback``); nothing else uses it.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from baryir.io.atomic import atomic_write_text

__all__ = ["StudyRunCallback"]


class StudyRunCallback(Callback):
    """Same batches in every arm: re-seed when training starts, fingerprint every batch.

    Before training starts the arms differ in how much randomness they used (the potentials'
    initialisation), so the random generators are re-seeded with ``seed`` at ``on_fit_start``,
    just before the fit loop makes the training DataLoader iterator (which draws its workers'
    seeds from the global generator). With ``num_workers >= 1`` and persistent workers the
    crops, flips and noise then come from the workers alone and are identical across arms; the
    batch order comes from the data module's seeded sampler. Each batch's fingerprint (sum of
    the inputs and the file names) is written to ``fingerprint_path`` at the end, so the study
    can check it.

    Args:
        seed: the run's seed.
        fingerprint_path: text file for the fingerprints (None: not written).
    """

    def __init__(self, seed: int, fingerprint_path: str | None = None) -> None:
        self.seed = seed
        self.fingerprint_path = fingerprint_path
        self.fingerprints: list[str] = []

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        total = float(batch["input"].double().sum())
        self.fingerprints.append(f"{total:.6f} {','.join(batch['name'])}")

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.fingerprint_path:
            atomic_write_text(self.fingerprint_path, "\n".join(self.fingerprints) + "\n")
