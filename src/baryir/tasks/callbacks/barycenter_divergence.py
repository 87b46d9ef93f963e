"""``BarycenterDivergence``: does ``b`` align across degradations? Logged at every validation."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from baryir.evaluation.embedding import cloud_divergence

__all__ = ["BarycenterDivergence"]


class BarycenterDivergence(Callback):
    """Log ``val/b_divergence``: the scale-free Sinkhorn divergence between the validation rows'
    clouds of ``b`` (each image's ``b`` pooled over positions; each row one degradation;
    :func:`~baryir.evaluation.embedding.cloud_divergence`).

    0: the rows share one distribution of ``b`` (the barycenter is degradation-agnostic);
    ``K / (K - 1)``: each row collapsed to its own point. It reads the task's validation step
    outputs (``{"label", "output"}``) and logs nothing for a network without a barycenter or a
    validation of fewer than two rows.

    Args:
        blur: the Sinkhorn blur, relative to the clouds' spread.
    """

    def __init__(self, blur: float = 0.05) -> None:
        self.blur = blur
        self.clouds: dict[str, list[Tensor]] = {}

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.clouds = {}

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        barycenter = outputs["output"].barycenter if isinstance(outputs, dict) else None
        if barycenter is not None:
            pooled = barycenter.detach().mean(dim=(2, 3)).float().cpu()
            self.clouds.setdefault(outputs["label"], []).append(pooled)

    def divergence(self) -> float:
        """The divergence of the clouds kept from the last validation (at least two rows)."""
        labels = [label for label, parts in self.clouds.items() for part in parts for _ in part]
        return cloud_divergence(torch.cat(sum(self.clouds.values(), [])), labels, self.blur)

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if len(self.clouds) >= 2:
            pl_module.log("val/b_divergence", self.divergence(), add_dataloader_idx=False)
