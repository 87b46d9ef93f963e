"""Experiment-tracking callbacks: validation images, run information and an offline-safe W&B logger.

Every callback works with whichever loggers the trainer has: W&B (``WandbLogger``),
TensorBoard (``TensorBoardLogger``) and CSV (``CSVLogger``, which gets no images). Select them
from a config, e.g. ``--config configs/logger/wandb.yaml`` after the main config.
"""

from __future__ import annotations

import logging
import netrc
import os
from pathlib import Path
from typing import Any

import torch
import yaml
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import Logger, TensorBoardLogger, WandbLogger
from torch import Tensor

from baryir.provenance import git_revision

__all__ = [
    "OfflineFallbackWandbLogger",
    "RunInfo",
    "ValidationImageLogger",
    "git_revision",
    "wandb_mode",
]

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


class RunInfo(Callback):
    """Log what identifies a run once, at the start of ``fit``, to every logger.

    Logged as hyper-parameters: ``run/git_revision`` (:func:`git_revision`, ``"unknown"``
    outside a git checkout), ``run/wb_solver`` (the solver the task really uses) and
    ``run/data_summary`` (``datamodule.summary()``). W&B also gets the resolved LightningCLI
    config in its run config under ``cli``; TensorBoard gets the summary as text.
    """

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        info: dict[str, Any] = {"run/git_revision": git_revision()}
        solver = getattr(pl_module, "wb_solver", None)
        if solver is not None:
            info["run/wb_solver"] = solver
        summary = _data_summary(trainer)
        if summary is not None:
            info["run/data_summary"] = summary
        config = _cli_config(trainer)
        for logger in trainer.loggers:
            logger.log_hyperparams(info)
            if isinstance(logger, WandbLogger) and config is not None:
                logger.experiment.config.update({"cli": config}, allow_val_change=True)
            elif isinstance(logger, TensorBoardLogger) and summary is not None:
                logger.experiment.add_text("run/data_summary", f"```\n{summary}\n```")
        log.info("run info: %s", {k: v for k, v in info.items() if k != "run/data_summary"})


def _data_summary(trainer: Trainer) -> str | None:
    summary = getattr(trainer.datamodule, "summary", None)
    if summary is None:
        return None
    try:
        return summary()
    except RuntimeError as error:
        log.warning("no data summary: %s", error)
        return None


def _cli_config(trainer: Trainer) -> dict[str, Any] | None:
    """The resolved LightningCLI config (what ``config.yaml`` holds), or None outside the CLI."""
    for callback in trainer.callbacks:
        if isinstance(callback, SaveConfigCallback):
            text = callback.parser.dump(callback.config, skip_none=False, skip_check=True)
            return yaml.safe_load(text)
    return None


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
