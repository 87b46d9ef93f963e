"""Every use of a private name of Lightning (and of jsonargparse, under LightningCLI) in baryir.

The rest of the library uses these functions, never the names themselves; :data:`PRIVATE_NAMES`
lists each with what it is for, and :func:`check_private_names` (run by
``tests/test_lightning_private.py``) says, naming the attribute and the installed versions, when
a release renames, removes or changes one. What each is needed for, and why no public name does:

- ``ModelCheckpoint._enable_version_counter``: a resumed or ``--fresh`` run writes over
  ``last.ckpt`` instead of a ``last-v1.ckpt`` beside it. The public switch is the constructor's
  ``enable_version_counter``, but the callbacks are built from the user's config before
  :mod:`baryir.tasks.preflight` knows whether the folder holds an earlier run.
- ``trainer.fit_loop.epoch_progress`` and ``trainer.fit_loop.epoch_loop.batch_progress``
  (attributes of the private ``_FitLoop``/``_TrainingEpochLoop`` and their ``_Progress``
  counters): the epoch and the batches done in it, saved by the data module so that a resumed
  run draws the same batches, and the batches done since the start (patch stages). The public
  ``trainer.global_step`` counts optimiser steps, not batches (it differs under gradient
  accumulation and with several optimisers), and no public name gives the batches of an epoch.
- ``jsonargparse.DefaultHelpFormatter._get_type_str``: ``--help`` says ``Path`` instead of
  ``<class 'Path'>``; jsonargparse has no public hook for the type's text.
- ``DDPStrategy._timeout``: the collective timeout of a strategy the user's config built (the
  public way is the constructor's ``timeout``; :mod:`baryir.tasks.callbacks.lost_rank` shortens
  torch's 30-minute default afterwards, so that a lost rank ends the run).
- ``_SubprocessScriptLauncher.procs``: the child processes the launching rank started, read to
  name the rank that was lost (Lightning exposes no public list of them).
"""

from __future__ import annotations

import inspect
from argparse import Action
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from jsonargparse import DefaultHelpFormatter

__all__ = [
    "PRIVATE_NAMES",
    "HelpFormatter",
    "PrivateName",
    "batches_processed",
    "check_private_names",
    "collective_timeout",
    "epoch_position",
    "launched_processes",
    "set_collective_timeout",
    "write_over_last",
]


@dataclass(frozen=True)
class PrivateName:
    """One private name: where it is, what baryir uses it for, and the parameters expected of
    it when it is a method (None: an attribute)."""

    where: str
    use: str
    parameters: tuple[str, ...] | None = None


PRIVATE_NAMES: tuple[PrivateName, ...] = (
    PrivateName(
        "lightning.pytorch.callbacks.ModelCheckpoint._enable_version_counter",
        "a resumed or --fresh fit writes over last.ckpt (write_over_last)",
    ),
    PrivateName(
        "lightning.pytorch.Trainer.fit_loop.epoch_progress.current.processed",
        "the epoch saved for resuming the sampler (epoch_position)",
    ),
    PrivateName(
        "lightning.pytorch.Trainer.fit_loop.epoch_loop.batch_progress.current.processed",
        "the batches done in the epoch, saved for resuming the sampler (epoch_position)",
    ),
    PrivateName(
        "lightning.pytorch.Trainer.fit_loop.epoch_loop.batch_progress.total.processed",
        "the batches done since the start, for patch stages (batches_processed)",
    ),
    PrivateName(
        "lightning.pytorch.strategies.DDPStrategy._timeout",
        "a lost DDP rank ends the run within the collective timeout (set_collective_timeout)",
    ),
    PrivateName(
        "lightning.pytorch.strategies.launchers.subprocess_script._SubprocessScriptLauncher.procs",
        "the error line names the lost rank's process (launched_processes)",
    ),
    PrivateName(
        "jsonargparse.DefaultHelpFormatter._get_type_str",
        "--help says Path for a pathlib.Path argument (HelpFormatter)",
        ("self", "action"),
    ),
)
"""The private names baryir uses (see the module docstring for why)."""


def write_over_last(callback: Any) -> None:
    """Let a ``ModelCheckpoint`` write over an existing ``last.ckpt`` (no ``-v1`` copy)."""
    callback._enable_version_counter = False


def epoch_position(trainer: Any) -> tuple[int, int]:
    """``(epoch, batches done in it)`` of the trainer's fit loop (what a resume restarts at)."""
    loop = trainer.fit_loop
    return loop.epoch_progress.current.processed, loop.epoch_loop.batch_progress.current.processed


def batches_processed(trainer: Any) -> int:
    """Training batches done since the run started (all epochs, resumed ones included)."""
    return trainer.fit_loop.epoch_loop.batch_progress.total.processed


def collective_timeout(strategy: Any) -> timedelta:
    """The collective timeout of a ``DDPStrategy``."""
    return strategy._timeout


def set_collective_timeout(strategy: Any, timeout: timedelta) -> None:
    """Set the collective timeout of a ``DDPStrategy`` before its process group is made."""
    strategy._timeout = timeout


def launched_processes(launcher: Any) -> list[Any]:
    """The child processes (``subprocess.Popen``) a strategy's launcher started (none for a
    launcher that starts none, or none at all)."""
    return list(getattr(launcher, "procs", []))


class HelpFormatter(DefaultHelpFormatter):
    """jsonargparse's help, saying ``Path`` for a ``pathlib.Path`` argument."""

    def _get_type_str(self, action: Action) -> str | None:
        type_str = super()._get_type_str(action)
        return type_str.replace("<class 'Path'>", "Path") if type_str else type_str


def _resolve(where: str) -> tuple[Any, str]:
    """The object holding the last part of ``where`` (a Trainer, a ModelCheckpoint, a
    DDPStrategy and a launcher are built to reach instance attributes), and that part."""
    import importlib

    from lightning.fabric.plugins.environments import LightningEnvironment
    from lightning.pytorch import Trainer
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.strategies import DDPStrategy
    from lightning.pytorch.strategies.launchers import subprocess_script

    launcher = subprocess_script._SubprocessScriptLauncher
    instances = [  # classes whose private names are instance attributes: one built to look
        (ModelCheckpoint, ModelCheckpoint),
        (DDPStrategy, DDPStrategy),
        (launcher, lambda: launcher(LightningEnvironment(), 1, 1)),
    ]

    parts = where.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            holder: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            holder = getattr(holder, part)
            if holder is Trainer:
                holder = Trainer(logger=False, enable_checkpointing=False, barebones=True)
            else:
                holder = next((build() for cls, build in instances if holder is cls), holder)
        return holder, parts[-1]
    raise ImportError(f"no module in {where}")


def check_private_names() -> list[str]:
    """One line per private name (:data:`PRIVATE_NAMES`) that the installed release no longer
    has, or has with other parameters; empty when all are as expected."""
    import jsonargparse
    import lightning

    versions = f"lightning {lightning.__version__}, jsonargparse {jsonargparse.__version__}"
    problems = []
    for name in PRIVATE_NAMES:
        try:
            holder, attribute = _resolve(name.where)
            value = getattr(holder, attribute)
        except (AttributeError, ImportError) as error:
            problems.append(f"{versions}: {name.where} is gone ({error}); used for: {name.use}")
            continue
        if name.parameters is not None:
            found = tuple(inspect.signature(value).parameters)
            if found != name.parameters:
                problems.append(
                    f"{versions}: {name.where} takes {found}, expected {name.parameters}; "
                    f"used for: {name.use}"
                )
    return problems
