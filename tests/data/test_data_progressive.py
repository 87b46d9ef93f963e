"""Progressive patch sizes: the stage rule, the loaders, a staged run and its exact resume."""

from __future__ import annotations

import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from baryir.cli import main
from baryir.data.datamodule import RestorationDataModule
from baryir.data.progressive import PatchStage, check_stages, stage_at
from tiny_run import SendSignal, add_callbacks, assert_same_weights, tiny_fit_args


def test_stage_at_known_answers() -> None:
    stages = [PatchStage(5, 48, 3), PatchStage(9, 64, 2)]
    assert stage_at(stages, 0, 32, 6) == (32, 6)
    assert stage_at(stages, 4, 32, 6) == (32, 6)
    assert stage_at(stages, 5, 32, 6) == (48, 3)
    assert stage_at(stages, 8, 32, 6) == (48, 3)
    assert stage_at(stages, 100, 32, 6) == (64, 2)
    assert stage_at([], 100, 32, 6) == (32, 6)


def test_bad_stages_fail_early() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        check_stages([PatchStage(9, 64, 2), PatchStage(5, 48, 3)])
    with pytest.raises(ValueError, match="strictly increasing"):
        check_stages([PatchStage(5, 64, 2), PatchStage(5, 48, 3)])
    for bad in ((0, 48, 3), (5, 4, 3), (5, 48, 0)):
        with pytest.raises(ValueError, match="PatchStage needs"):
            PatchStage(*bad)
    with pytest.raises(ValueError, match="strictly increasing"):
        RestorationDataModule(patch_stages=[PatchStage(9, 64, 2), PatchStage(5, 48, 3)])


def _trainer(batches_done: int, reload: int = 1) -> SimpleNamespace:
    progress = SimpleNamespace(total=SimpleNamespace(processed=batches_done))
    loop = SimpleNamespace(epoch_loop=SimpleNamespace(batch_progress=progress))
    return SimpleNamespace(
        world_size=1, global_rank=0, reload_dataloaders_every_n_epochs=reload, fit_loop=loop
    )


def _first_input(dm: RestorationDataModule) -> torch.Tensor:
    return next(iter(dm.train_dataloader()))["input"]


def test_loader_follows_the_stage_of_the_epoch_start() -> None:
    dm = RestorationDataModule(
        tasks=["denoise_25", "derain", "clean"],
        patch_size=32,
        batch_size=6,
        patch_stages=[PatchStage(5, 48, 3)],
        num_workers=0,
        bundled_train_size=8,
        val_sets=[],
    )
    dm.setup("fit")
    assert "from step 5: patch 48, batch 3" in dm.summary()
    assert _first_input(dm).shape == (6, 3, 32, 32)
    dm.trainer = _trainer(4)
    assert _first_input(dm).shape == (6, 3, 32, 32)
    dm.trainer = _trainer(8)
    assert _first_input(dm).shape == (3, 3, 48, 48)
    # a run resumed 2 batches into an epoch that started at batch 4 keeps that epoch's stage
    dm.load_state_dict({"epoch": 1, "batches_done": 2})
    dm.trainer = _trainer(6)
    assert _first_input(dm).shape == (6, 3, 32, 32)
    dm.trainer = _trainer(8, reload=0)
    with pytest.raises(ValueError, match="reload_dataloaders_every_n_epochs: 1"):
        dm.train_dataloader()


class BatchShapes(SendSignal):
    """Record the input shape of every training batch; at step ``stop_at`` send SIGUSR1."""

    def __init__(self, stop_at: int | None = None) -> None:
        super().__init__(signal.SIGUSR1, stop_at)
        self.shapes: list[tuple[int, ...]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.shapes.append(tuple(batch["input"].shape))
        super().on_train_batch_start(trainer, pl_module, batch, batch_idx)


STAGED = [
    "--trainer.deterministic",
    "true",
    "--trainer.reload_dataloaders_every_n_epochs",
    "1",
    "--trainer.val_check_interval",
    "4",
    "--data.patch_stages",
    "[{step: 5, patch_size: 48, batch_size: 3}]",
]


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_staged_run_switches_at_an_epoch_start_and_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 tasks x 8 items in batches of 6: 4 batches an epoch, so the stage that starts at step
    5 begins with epoch 2 (step 8). A run stopped by SIGUSR1 inside epoch 1 (after step 5)
    resumes in the first stage and ends where the uninterrupted run does."""
    flag = torch.are_deterministic_algorithms_enabled()

    def fit_recording(root: Path, stop_at: int | None, *extra: str) -> BatchShapes:
        recorder = BatchShapes(stop_at)
        add_callbacks(monkeypatch, recorder)
        main(tiny_fit_args(root, 12, *STAGED, *extra))
        return recorder

    try:
        reference_run = fit_recording(tmp_path / "ref", None)
        reference = torch.load(tmp_path / "ref" / "ckpt" / "last.ckpt", weights_only=True)
        fit_recording(tmp_path / "cut", 5)
        stopped = torch.load(tmp_path / "cut" / "ckpt" / "last.ckpt", weights_only=True)
        resumed_run = fit_recording(tmp_path / "cut", None, "--ckpt_path", "last")
        resumed = torch.load(tmp_path / "cut" / "ckpt" / "last.ckpt", weights_only=True)
    finally:
        torch.use_deterministic_algorithms(flag)
    assert reference_run.shapes == [(6, 3, 32, 32)] * 8 + [(3, 3, 48, 48)] * 4
    assert 5 <= stopped["global_step"] < 8
    assert resumed_run.shapes == reference_run.shapes[stopped["global_step"] :]
    assert resumed["global_step"] == reference["global_step"] == 12
    assert_same_weights(resumed, reference)
