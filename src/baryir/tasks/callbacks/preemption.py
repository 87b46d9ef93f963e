"""``PreemptionCheckpoint``: a preempted run saves ``last.ckpt`` and stops cleanly.

SIGTERM (and SIGUSR1 where nothing else handles it) becomes "save ``last.ckpt`` at the end of
this batch, then stop", so a preempted job resumes with ``--ckpt_path last`` without losing the
steps since the last periodic checkpoint. The ``baryir`` command adds it to every run.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

__all__ = ["PreemptionCheckpoint", "last_checkpoint_path"]

log = logging.getLogger(__name__)


def last_checkpoint_path(trainer: Trainer) -> Path:
    """``last.ckpt`` in the first ``ModelCheckpoint``'s folder, else in ``<root>/checkpoints``."""
    for callback in trainer.checkpoint_callbacks:
        if isinstance(callback, ModelCheckpoint) and callback.dirpath:
            return Path(callback.dirpath) / f"{callback.CHECKPOINT_NAME_LAST}.ckpt"
    return Path(trainer.default_root_dir) / "checkpoints" / "last.ckpt"


class PreemptionCheckpoint(Callback):
    """On SIGTERM or SIGUSR1, save ``last.ckpt`` at the end of the current batch and stop.

    SIGTERM: Lightning's own handler marks ``trainer.received_sigterm``; this callback saves the
    checkpoint at the next batch end (or, if the signal lands during validation, when Lightning
    aborts with ``SIGTERMException``), then Lightning exits with status 0. SIGUSR1: a handler is
    installed for the duration of training only when the signal has no handler yet (so SLURM
    auto-requeue keeps Lightning's); the run saves and stops like ``max_steps`` was reached.
    Writes go through the trainer's ``CheckpointIO`` (atomic with ``AtomicCheckpointIO``).

    ``ModelCheckpoint`` then records this file as its last save: otherwise, at train end, it
    writes its own ``last-v1.ckpt`` (when it has not saved ``last`` yet, e.g. with
    ``save_top_k: 0``), which ``--ckpt_path last`` would pick and which, written after the
    stopped loop wound down, records the interrupted epoch as finished.
    """

    def __init__(self) -> None:
        self._usr1 = threading.Event()
        self._previous_usr1: Any = None
        self._saved_step: int | None = None

    def _on_usr1(self, signum: int, frame: Any) -> None:
        self._usr1.set()

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._saved_step = None
        usr1 = getattr(signal, "SIGUSR1", None)
        if usr1 is None or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(usr1) in (signal.SIG_DFL, None):
            self._previous_usr1 = signal.signal(usr1, self._on_usr1)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._restore_usr1()

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._restore_usr1()

    def _restore_usr1(self) -> None:
        if self._previous_usr1 is not None:
            signal.signal(signal.SIGUSR1, self._previous_usr1)
            self._previous_usr1 = None

    def _save(self, trainer: Trainer, reason: str) -> None:
        if self._saved_step == trainer.global_step:
            return
        path = last_checkpoint_path(trainer)
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint):
                # ModelCheckpoint's own records (saved in the file, so a resumed run keeps
                # writing last.ckpt): it skips a step it saved, and saves "last" at train end
                # only when it has saved none
                callback._last_global_step_saved = trainer.global_step
                if callback.dirpath and Path(callback.dirpath) == path.parent:
                    callback.last_model_path = str(path)
                    callback._last_checkpoint_saved = str(path)
        trainer.save_checkpoint(path)
        self._saved_step = trainer.global_step
        log.warning(
            "%s: saved %s at step %d; resume with --ckpt_path last (or %s)",
            reason,
            path,
            trainer.global_step,
            path,
        )

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.received_sigterm:
            self._save(trainer, "SIGTERM received")
            trainer.should_stop = True
        elif self._usr1.is_set():
            self._usr1.clear()
            self._save(trainer, "SIGUSR1 received")
            trainer.should_stop = True

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        if isinstance(exception, SIGTERMException) and not trainer.sanity_checking:
            self._save(trainer, "SIGTERM received")
