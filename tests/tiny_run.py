"""Short runs of the tiny test config (``tests/conf/tiny.yaml``): command lines, extra callbacks,
a signal sender, the weight comparison of a resumed run, and a quiet ``Trainer`` for in-process
runs."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer

import baryir.cli
from baryir.io.checkpoint_io import AtomicCheckpointIO

TINY = Path(__file__).resolve().parent / "conf" / "tiny.yaml"
RESILIENCE_DEFAULTS = baryir.cli.resilience_defaults


def quiet_trainer(**overrides: object) -> Trainer:
    """A CPU ``Trainer`` that writes and prints nothing of its own (no logger, checkpoints, bar
    or summary) unless ``overrides`` asks for it."""
    settings = {
        "accelerator": "cpu",
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
    }
    return Trainer(**(settings | overrides))


def tiny_fit_args(root: Path, max_steps: int, *extra: str) -> list[str]:
    """``baryir fit`` arguments: the tiny config for ``max_steps``, logs under ``root`` and
    checkpoints in ``root/ckpt``, then ``extra`` (later options override earlier ones)."""
    return [
        "fit",
        "--config",
        str(TINY),
        "--trainer.max_steps",
        str(max_steps),
        "--trainer.default_root_dir",
        str(root),
        "--trainer.logger.init_args.save_dir",
        str(root),
        "--trainer.callbacks.init_args.dirpath",
        str(root / "ckpt"),
        *extra,
    ]


def add_callbacks(monkeypatch: pytest.MonkeyPatch, *callbacks: Callback) -> None:
    """The next in-process ``baryir fit`` runs with ``callbacks`` besides the CLI's defaults
    (none: the defaults alone); each call replaces the previous one's."""

    def with_callbacks() -> dict[str, list]:
        found = RESILIENCE_DEFAULTS()
        found["callbacks"].extend(callbacks)
        return found

    monkeypatch.setattr(baryir.cli, "resilience_defaults", with_callbacks)


class SendSignal(Callback):
    """Send ``signum`` to this process at the start of batch ``at`` (None: never)."""

    def __init__(self, signum: int, at: int | None) -> None:
        self.signum = signum
        self.at = at
        self.checkpoint_io: object = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.checkpoint_io = trainer.strategy.checkpoint_io
        if trainer.global_step == self.at:
            os.kill(os.getpid(), self.signum)


def assert_same_weights(resumed: dict, expected: dict) -> None:
    """The two checkpoints hold the same network (and potentials) weights."""
    assert resumed["state_dict"].keys() == expected["state_dict"].keys()
    for key, value in expected["state_dict"].items():
        # the same steps in the same order on one machine: tight (a resume that skipped or
        # repeated a step moves weights by a step's size, ~1e-3), not bound by other CPUs' orders
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=1e-6, atol=1e-7)


class PauseAt(Callback):
    """At the start of batch ``at``, touch ``marker`` and sleep ``seconds``: a run that is known
    to have reached that step, for a test to kill (used through ``--trainer.callbacks+=``)."""

    def __init__(self, at: int, marker: str, seconds: float = 120.0) -> None:
        self.at = at
        self.marker = Path(marker)
        self.seconds = seconds

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.at:
            self.marker.touch()
            time.sleep(self.seconds)


class FullDiskCheckpointIO(AtomicCheckpointIO):
    """The CLI's checkpoint IO, with a disk that is full from save number ``fail_from`` on:
    that save raises ``OSError(ENOSPC)`` halfway through writing the file."""

    def __init__(self, fail_from: int = 2) -> None:
        super().__init__()
        self.fail_from = fail_from
        self.saves = 0

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        self.saves += 1
        if self.saves >= self.fail_from:
            checkpoint = {**checkpoint, "__full_disk__": _FullDisk()}
        super().save_checkpoint(checkpoint, path, storage_options)


class _FullDisk:
    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
