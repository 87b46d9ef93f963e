"""``RunInfo``: log what identifies a run (git revision, solver, data summary, config) once."""

from __future__ import annotations

import logging
from typing import Any

import yaml
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger

from baryir.provenance import git_revision

__all__ = ["RunInfo", "git_revision"]

log = logging.getLogger(__name__)


class RunInfo(Callback):
    """Log what identifies a run once, at the start of ``fit``, to every logger.

    Logged as hyper-parameters: ``run/git_revision`` (:func:`baryir.provenance.git_revision`,
    ``"unknown"`` outside a git checkout), ``run/wb_solver`` (the solver the task really uses) and
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
