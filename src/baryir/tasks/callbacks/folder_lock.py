"""The callback that holds a ``fit``'s checkpoint folder for the run's life (one run per folder).

:func:`hold_folder` takes the folder's :class:`~baryir.io.run_lock.RunLock` at once (a second
run into a folder another live process holds stops there, naming it) and adds a
:class:`FolderLock` to the trainer that gives the lock back when ``fit`` ends or fails. A killed
process needs nothing: the operating system releases its lock.
"""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer

from baryir.errors import ConfigError
from baryir.io.run_lock import FolderInUseError, RunLock

__all__ = ["FolderLock", "hold_folder"]


class FolderLock(Callback):
    """Holds ``lock`` (already taken) until the run ends or fails."""

    def __init__(self, lock: RunLock) -> None:
        self.lock = lock

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self.lock.release()

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        self.lock.release()


def hold_folder(trainer: Trainer, folder: Path) -> None:
    """Lock ``folder`` for ``trainer``'s run.

    Raises:
        ConfigError: another live process holds it (one line naming its pid, host and start).
    """
    lock = RunLock(folder)
    try:
        lock.acquire()
    except FolderInUseError as error:
        raise ConfigError(str(error)) from None
    trainer.callbacks.append(FolderLock(lock))
