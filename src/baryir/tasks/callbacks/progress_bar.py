"""``IntervalProgressBar``: Lightning's TQDM bar, its metrics read at the logging interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar

__all__ = ["IntervalProgressBar"]

Shown = dict[str, int | str | float | dict[str, float]]


class IntervalProgressBar(TQDMProgressBar):
    """The TQDM progress bar, advancing every step, that shows logged values (``show``, and
    any logged with ``prog_bar=True``) read every ``trainer.log_every_n_steps`` training steps.

    Reading a logged tensor waits for the device, and Lightning reads every ``prog_bar=True``
    value after every step; so ``RestorationTask`` logs no training value with
    ``prog_bar=True``, and this bar reads the values it shows at logging steps, validation and
    epoch ends only. Between those it shows the last values read, as the logger does. The
    ``baryir`` command uses it when the trainer shows a bar and the config names none.

    Args:
        show: logged values to show beside the bar (those not logged yet are left out).
        refresh_rate, leave: as for ``TQDMProgressBar``.
    """

    def __init__(
        self, show: Sequence[str] = ("train/loss",), refresh_rate: int = 1, leave: bool = False
    ) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=leave)
        self.show = list(show)
        self._shown: Shown = {}
        self._between_logs = False

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> Shown:
        if not self._between_logs:
            logged = trainer.callback_metrics
            values = {name: float(logged[name]) for name in self.show if name in logged}
            self._shown = {**values, **super().get_metrics(trainer, pl_module)}
        return self._shown

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, idx: int
    ) -> None:
        self._between_logs = trainer.global_step % max(trainer.log_every_n_steps, 1) != 0
        try:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, idx)
        finally:
            self._between_logs = False
