"""CDD-11 end to end: ``baryir fit`` with configs/baryir-cdd11.yaml on a miniature tree, and the
synthetic 11-source stand-in training a few CPU steps with rotating balanced batches."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from lightning.pytorch import Callback, LightningModule

from baryir.cli import count_sources, main
from baryir.data import RestorationDataModule
from baryir.tasks import BarycenterConfig, RestorationTask
from cdd11_tree import make_cdd11
from tiny_run import quiet_trainer

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "baryir-cdd11.yaml"

# the tiny network and CPU sizes, on top of the CDD-11 config
TINY = [
    "--model.model=baryir-tiny",
    "--model.model_args={dim: 8}",
    "--model.objective.potentials_pooling=adaptive",
    "--model.objective.potentials_patch_size=16",
    "--data.patch_size=16",
    "--data.batch_size=4",
    "--data.num_workers=0",
    "--data.val_crop=null",
    "--trainer.accelerator=cpu",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


def test_fit_cdd11_config_on_a_miniature_tree(tmp_path: Path, monkeypatch) -> None:
    root = make_cdd11(tmp_path / "CDD-11")
    monkeypatch.chdir(tmp_path)  # the config's runs/ folder
    code = main(
        [
            "fit",
            "--config",
            str(CONFIG),
            f"--data.root={root}",
            "--trainer.fast_dev_run=true",
            f"--trainer.default_root_dir={tmp_path}",
            *TINY,
        ]
    )
    assert code == 0


class _Record(Callback):
    def __init__(self) -> None:
        self.sources: list[list[int]] = []
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, module: LightningModule, outputs, batch, index) -> None:
        self.sources.append(batch["source"].tolist())
        self.losses.append(float(trainer.callback_metrics["train/loss"]))


def test_synthetic_stand_in_trains_eleven_sources_on_cpu(tmp_path: Path) -> None:
    torch.manual_seed(0)
    data = RestorationDataModule(
        tasks=["cdd11"],
        patch_size=16,
        batch_size=4,
        num_workers=0,
        bundled_train_size=4,
        val_sets=[],
    )
    task = RestorationTask(
        model="baryir-tiny",
        model_args={"dim": 8},
        num_sources=11,
        objective=BarycenterConfig(wb_solver="potentials", potentials_patch_size=16),
    )
    record = _Record()
    trainer = quiet_trainer(
        max_steps=6, limit_val_batches=0, callbacks=[record], default_root_dir=tmp_path
    )
    trainer.fit(task, datamodule=data)
    assert trainer.global_step >= 6 and len(record.sources) == 6
    assert all(len(set(sources)) == 4 for sources in record.sources)  # distinct sources
    assert len({k for sources in record.sources for k in sources}) == 11  # all seen
    assert all(math.isfinite(loss) for loss in record.losses)
    torch.testing.assert_close(task.source_weights, torch.full((11,), 1 / 11))


def test_cdd_tasks_link_their_sources_to_the_model() -> None:
    assert count_sources(["cdd_low_haze_snow", "cdd_rain"]) == 2
    assert count_sources(["cdd11", "denoise_25"]) == 12
