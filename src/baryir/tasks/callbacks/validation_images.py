"""``ValidationImageLogger``: log fixed validation triplets (degraded | restored | clean)."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import Logger, TensorBoardLogger, WandbLogger
from torch import Tensor

__all__ = ["ValidationImageLogger"]


class ValidationImageLogger(Callback):
    """Log a fixed set of validation triplets ``degraded | restored | clean`` every N steps.

    The images are the first ``num_images`` of the validation sets, taken round-robin over the
    sets (one per set in turn), so each set is shown. W&B gets them with ``log_image`` under
    ``val/images`` (captions are the set labels), TensorBoard with ``add_image`` under
    ``val/images/<i>_<label>``; other loggers (CSV) get nothing.

    Args:
        every_n_steps: log after every ``every_n_steps`` optimisation steps (and at the end).
        num_images: number of triplets.
    """

    def __init__(self, every_n_steps: int = 500, num_images: int = 4) -> None:
        if every_n_steps < 1 or num_images < 1:
            raise ValueError(
                f"ValidationImageLogger: every_n_steps={every_n_steps} and "
                f"num_images={num_images} must be >= 1"
            )
        self.every_n_steps = every_n_steps
        self.num_images = num_images
        self._samples: list[tuple[str, Tensor, Tensor]] | None = None
        self._last_step = -1

    def _loggers(self, trainer: Trainer) -> list[Logger]:
        return [
            logger
            for logger in trainer.loggers
            if isinstance(logger, WandbLogger | TensorBoardLogger)
        ]

    def _collect(self, trainer: Trainer) -> list[tuple[str, Tensor, Tensor]]:
        """``(label, degraded (3, H, W), clean (3, H, W))`` of the first images, round-robin."""
        loaders = trainer.val_dataloaders
        if loaders is None and trainer.datamodule is not None:
            loaders = trainer.datamodule.val_dataloader()
        loaders = [] if loaders is None else loaders
        loaders = loaders if isinstance(loaders, list | tuple) else [loaders]
        iterators = [
            (getattr(lo.dataset, "label", f"set{i}"), iter(lo)) for i, lo in enumerate(loaders)
        ]
        samples: list[tuple[str, Tensor, Tensor]] = []
        while iterators and len(samples) < self.num_images:
            for label, iterator in list(iterators):
                batch = next(iterator, None)
                if batch is None:
                    iterators.remove((label, iterator))
                    continue
                for degraded, clean in zip(batch["input"], batch["target"], strict=True):
                    samples.append((label, degraded, clean))
                if len(samples) >= self.num_images:
                    break
        return samples[: self.num_images]

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.global_step % self.every_n_steps == 0:
            self.log_images(trainer, pl_module)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.log_images(trainer, pl_module)

    @torch.no_grad()
    def log_images(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Restore the fixed images with ``pl_module`` and log the triplets (rank zero only)."""
        loggers = self._loggers(trainer)
        step = trainer.global_step
        if not loggers or not trainer.is_global_zero or step == self._last_step:
            return
        if self._samples is None:
            self._samples = self._collect(trainer)
        if not self._samples:
            return
        self._last_step = step
        training = pl_module.training
        pl_module.eval()
        triplets, labels = [], []
        for label, degraded, clean in self._samples:
            restored = pl_module(degraded[None].to(pl_module.device)).float().clamp(0, 1)[0]
            triplets.append(torch.cat([degraded, restored.cpu(), clean], dim=-1).float())
            labels.append(label)
        pl_module.train(training)
        for logger in loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(
                    "val/images",
                    images=[_to_uint8_hwc(t) for t in triplets],
                    step=step,
                    caption=[f"{label}: degraded | restored | clean" for label in labels],
                )
            else:
                for i, (label, triplet) in enumerate(zip(labels, triplets, strict=True)):
                    logger.experiment.add_image(f"val/images/{i}_{label}", triplet, step)


def _to_uint8_hwc(image: Tensor) -> Any:
    """(3, H, W) float in [0, 1] -> (H, W, 3) uint8 numpy array (W&B does not rescale floats)."""
    return (image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
