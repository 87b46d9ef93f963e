"""Under DDP the WB and subspace terms see the global batch: 2 ranks x B equals 1 rank x 2B."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, LightningDataModule
from torch.utils.data import DataLoader, Dataset

from baryir.tasks import BarycenterConfig, RestorationTask
from tiny_run import quiet_trainer

BATCH = 4  # per rank; the single-rank run uses 2 x BATCH


class FixedBatches(Dataset):
    """``2 * BATCH`` fixed samples from three sources, as the training contract's dicts."""

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        n = 2 * BATCH
        self.target = torch.rand(n, 3, 16, 16, generator=generator)
        self.input = (self.target + 0.2 * torch.randn(n, 3, 16, 16, generator=generator)).clamp(
            0, 1
        )
        self.degradation = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
        self.source = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])

    def __len__(self) -> int:
        return len(self.target)

    def __getitem__(self, i: int) -> dict:
        return {
            "input": self.input[i],
            "target": self.target[i],
            "degradation": self.degradation[i],
            "source": self.source[i],
        }


class Data(LightningDataModule):
    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.source_weights = torch.tensor([0.5, 0.3, 0.2])

    def train_dataloader(self) -> DataLoader:
        return DataLoader(FixedBatches(), batch_size=self.batch_size, shuffle=False)


class RecordFirstLoss(Callback):
    def __init__(self, out: Path) -> None:
        self.out = out

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx == 0:
            value = outputs["loss"] if isinstance(outputs, dict) else outputs
            path = self.out / f"rank{trainer.global_rank}.json"
            path.write_text(json.dumps(float(value)))


def first_loss(tmp_path: Path, solver: str, devices: int, gather: bool = True) -> float:
    out = tmp_path / f"{solver}-{devices}-{gather}"
    out.mkdir()
    torch.manual_seed(0)
    task = RestorationTask(
        model="baryir-tiny",
        model_args={"dim": 8, "num_blocks": [1, 1, 1, 1], "num_refinement_blocks": 1},
        objective=BarycenterConfig(
            wb_solver=solver,
            sinkhorn_points="pooled",
            potentials_patch_size=16,
            gather_global_batch=gather,
        ),
    )
    trainer = quiet_trainer(
        devices=devices,
        strategy="ddp_spawn" if devices > 1 else "auto",
        max_steps=1,
        callbacks=[RecordFirstLoss(out)],
    )
    trainer.fit(task, datamodule=Data(2 * BATCH // devices))
    values = [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]
    assert len(values) == devices
    return sum(values) / devices


@pytest.mark.parametrize("solver", ["sinkhorn", "potentials"])
def test_two_ranks_equal_one_rank_with_double_batch(solver: str, tmp_path: Path) -> None:
    single = first_loss(tmp_path, solver, devices=1)
    double = first_loss(tmp_path, solver, devices=2)
    assert double == pytest.approx(single, rel=1e-5)


def test_without_gathering_the_ranks_see_only_their_half(tmp_path: Path) -> None:
    single = first_loss(tmp_path, "sinkhorn", devices=1)
    local = first_loss(tmp_path, "sinkhorn", devices=2, gather=False)
    assert local != pytest.approx(single, rel=1e-3)
