"""Fault injection into the non-finite guard: NaN losses and NaN gradients during training.

Each case runs the real ``RestorationTask`` (tiny network, dual potentials, so both optimisers
are involved) for a few CPU steps under a Lightning ``Trainer``; batches listed in ``nan_input``
carry a NaN pixel (non-finite loss) and steps listed in ``nan_grad`` get a NaN gradient from a
tensor hook (finite loss, non-finite gradient). The guard runs in both of its modes:
``immediate`` (the default optimiser, RMSprop, has no fused kernel to skip on the device) and
``deferred`` (fused Adam for both optimisers: the step is skipped on the device and the counts
are read at logging intervals, epoch ends and checkpoints).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader, Dataset

from baryir.io.checkpoint_io import AtomicCheckpointIO
from baryir.tasks import BarycenterConfig, GuardConfig, NonFiniteLossError, RestorationTask
from tiny_run import quiet_trainer

BATCH = 6
PATCH = 16


class FaultyBatches(Dataset):
    """Random image pairs, every source in every batch; chosen batches hold a NaN pixel."""

    def __init__(self, batches: int, nan_input: set[int]) -> None:
        self.batches = batches
        self.nan_input = nan_input

    def __len__(self) -> int:
        return self.batches * BATCH

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(index)
        target = torch.rand(3, PATCH, PATCH, generator=generator)
        degraded = (target + 0.1 * torch.randn(3, PATCH, PATCH, generator=generator)).clamp(0, 1)
        if index // BATCH in self.nan_input:
            degraded[0, 0, 0] = float("nan")
        source = index % 3
        return {
            "input": degraded,
            "target": target,
            "degradation": source,
            "source": source,
            "name": f"{index:03d}",
        }


class Recorder(Callback):
    """Keeps the weights before/after every batch; injects NaN gradients on chosen batches."""

    def __init__(self, nan_grad: set[int]) -> None:
        self.nan_grad = nan_grad
        self.before: dict[int, dict[str, torch.Tensor]] = {}
        self.after: dict[int, dict[str, torch.Tensor]] = {}
        self.handles: list = []

    @staticmethod
    def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in module.state_dict().items()}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.before[batch_idx] = self.snapshot(pl_module)
        if batch_idx in self.nan_grad:
            weight = next(pl_module.model.parameters())
            self.handles.append(weight.register_hook(lambda g: torch.full_like(g, float("nan"))))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()
        self.after[batch_idx] = self.snapshot(pl_module)


def train(
    tmp_path: Path,
    batches: int,
    nan_input: set[int] = frozenset(),
    nan_grad: set[int] = frozenset(),
    max_nonfinite_steps: int = 10,
    check: str = "immediate",
    recorder: Recorder | None = None,
) -> tuple[RestorationTask, Recorder, Trainer]:
    seed_everything(0, verbose=False)
    adam = partial(torch.optim.Adam, lr=1e-3) if check == "deferred" else None
    task = RestorationTask(
        model="baryir-tiny",
        model_args={"dim": 8},
        num_sources=3,
        objective=BarycenterConfig(wb_solver="potentials", potentials_patch_size=PATCH),
        guard=GuardConfig(max_nonfinite_steps=max_nonfinite_steps, check=check),
        optimizer=adam,
        potentials_optimizer=adam,
    )
    recorder = recorder or Recorder(set(nan_grad))
    trainer = quiet_trainer(
        max_epochs=1,
        log_every_n_steps=2,
        enable_checkpointing=True,
        num_sanity_val_steps=0,
        plugins=[AtomicCheckpointIO()],
        callbacks=[
            recorder,
            ModelCheckpoint(dirpath=tmp_path, save_last=True, save_top_k=0, every_n_train_steps=1),
        ],
    )
    loader = DataLoader(FaultyBatches(batches, set(nan_input)), batch_size=BATCH)
    trainer.fit(task, loader)
    return task, recorder, trainer


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def assert_finite(state: dict[str, torch.Tensor]) -> None:
    for key, value in state.items():
        if value.is_floating_point():
            assert torch.isfinite(value).all(), key


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.mark.parametrize("fault", ["nan_input", "nan_grad"])
def test_nonfinite_step_is_skipped_and_counted(tmp_path: Path, fault: str, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="baryir.tasks.guard"):
        task, recorder, trainer = train(tmp_path, batches=4, **{fault: {1}})
    # The faulty batch changed nothing (network, potentials, buffers), the others trained.
    assert_same(recorder.before[1], recorder.after[1])
    assert any(
        not torch.equal(recorder.before[2][k], recorder.after[2][k]) for k in recorder.after[2]
    )
    assert trainer.global_step == 3  # optimiser steps: 4 batches, 1 skipped
    assert task.guard.total == 1 and task.guard.consecutive == 0
    what = "loss" if fault == "nan_input" else "gradient"
    assert f"non-finite {what} at step 1: step skipped" in caplog.text
    checkpoint = load(tmp_path / "last.ckpt")
    assert checkpoint["global_step"] == 3
    assert checkpoint["nonfinite_guard"] == {"consecutive": 0, "total": 1}
    assert_finite(checkpoint["state_dict"])
    for optimizer in checkpoint["optimizer_states"]:
        for state in optimizer["state"].values():
            assert_finite(state)


@pytest.mark.parametrize("fault", ["nan_input", "nan_grad"])
def test_consecutive_nonfinite_steps_stop_the_run(tmp_path: Path, fault: str) -> None:
    good_then_bad = {2, 3, 4}
    with pytest.raises(NonFiniteLossError, match=r"3 consecutive steps had a non-finite"):
        train(tmp_path, batches=6, max_nonfinite_steps=3, **{fault: good_then_bad})
    # The last checkpoint is the one written after the last good step, intact and finite.
    checkpoint = load(tmp_path / "last.ckpt")
    assert checkpoint["global_step"] == 2
    assert checkpoint["nonfinite_guard"]["consecutive"] == 0
    assert_finite(checkpoint["state_dict"])
    assert not list(tmp_path.glob(".*.tmp"))


def test_interleaved_faults_count_as_consecutive(tmp_path: Path) -> None:
    """A NaN loss then NaN gradients: every step since the last good one counts."""
    with pytest.raises(NonFiniteLossError):
        train(tmp_path, batches=6, max_nonfinite_steps=3, nan_input={1}, nan_grad={2, 3})
    assert load(tmp_path / "last.ckpt")["global_step"] == 1


@pytest.mark.parametrize("fault", ["nan_input", "nan_grad"])
def test_deferred_check_skips_on_the_device_and_counts_later(
    tmp_path: Path, fault: str, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger="baryir.tasks.guard"):
        task, recorder, trainer = train(tmp_path, batches=4, check="deferred", **{fault: {1}})
    assert task.guard.deferred
    # weights, potentials and the weight average unchanged by the faulty batch, the rest trained
    assert_same(recorder.before[1], recorder.after[1])
    assert any(
        not torch.equal(recorder.before[2][k], recorder.after[2][k]) for k in recorder.after[2]
    )
    assert trainer.global_step == 4  # a skipped step still counts
    assert task.guard.total == 1 and task.guard.consecutive == 0
    # read at the checkpoint after the faulty batch (every step here)
    assert (
        "1 steps with a non-finite loss or gradient between step 1 and step 2 (the last at "
        "step 1) were skipped (1 in a row now, 1 in total)" in caplog.text
    )
    checkpoint = load(tmp_path / "last.ckpt")
    assert checkpoint["nonfinite_guard"] == {"consecutive": 0, "total": 1}
    assert_finite(checkpoint["state_dict"])
    for optimizer in checkpoint["optimizer_states"]:
        for state in optimizer["state"].values():
            assert_finite(state)


def test_deferred_check_stops_the_run_at_its_next_read(tmp_path: Path) -> None:
    recorder = Recorder(set())
    with pytest.raises(NonFiniteLossError, match=r"3 consecutive steps had a non-finite"):
        train(
            tmp_path,
            batches=8,
            nan_input={2, 3, 4},
            max_nonfinite_steps=3,
            check="deferred",
            recorder=recorder,
        )
    # the run of 3 is read at the checkpoint after batch 4, which is not written; the weights
    # never moved after batch 1, the last good one
    assert max(recorder.after) == 4
    for idx in (2, 3, 4):
        assert_same(recorder.after[1], recorder.after[idx])
    checkpoint = load(tmp_path / "last.ckpt")
    assert checkpoint["global_step"] == 4
    assert checkpoint["nonfinite_guard"] == {"consecutive": 2, "total": 2}
    assert_finite(checkpoint["state_dict"])
    assert not list(tmp_path.glob(".*.tmp"))


def test_deferred_check_needs_optimisers_that_skip_on_the_device(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"guard.check='deferred' needs .*RMSprop"):
        RestorationTask(
            model="baryir-tiny", model_args={"dim": 8}, guard=GuardConfig(check="deferred")
        ).configure_optimizers()
