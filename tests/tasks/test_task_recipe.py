"""The small-budget recipe: identity start, EMA weights, warm-up + cosine, the clean source."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer, seed_everything

from baryir.data import RestorationDataModule
from baryir.data.datasets.bundled import bundled_dataset
from baryir.data.degradation_tasks import TASKS
from baryir.models import create_model, list_models
from baryir.tasks import BarycenterConfig, RestorationTask
from tiny_run import quiet_trainer
from tolerance import float32_sum_bound


@pytest.mark.parametrize("name", [n for n in list_models() if n.endswith("-tiny")])
def test_identity_init_returns_the_input_exactly(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name)
    x = torch.rand(2, 3, 40, 24)
    assert not torch.equal(model(x).restored, x)
    model.init_identity()
    assert torch.equal(model(x).restored, x)
    assert not model.output_projection.weight.any()


def test_identity_init_is_a_task_field_and_loaded_weights_win(tmp_path: Path) -> None:
    torch.manual_seed(0)
    fresh = RestorationTask(model="baryir-tiny", model_args={"dim": 8}, identity_init=True)
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(fresh(x), x)
    trained = RestorationTask(model="baryir-tiny", model_args={"dim": 8})
    fresh.load_state_dict(trained.state_dict())
    assert fresh.model.output_projection.weight.abs().sum() > 0
    assert torch.equal(fresh(x), trained(x))  # the same weights and operations: bitwise
    plain = RestorationTask(model="baryir-tiny", model_args={"dim": 8})
    assert plain.model.output_projection.weight.abs().sum() > 0


def _trainer(steps: int, callbacks: list[Callback], root: Path) -> Trainer:
    return quiet_trainer(
        max_steps=steps, limit_val_batches=0, callbacks=callbacks, default_root_dir=root
    )


def _data(tasks: list[str]) -> RestorationDataModule:
    return RestorationDataModule(
        tasks=tasks,
        patch_size=16,
        batch_size=len({TASKS[t].source for t in tasks}),
        num_workers=0,
        persistent_workers=False,
        bundled_train_size=4,
        val_sets=[],
    )


class LearningRates(Callback):
    """Record the network's learning rate before every training batch."""

    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, *args) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


def test_cosine_schedule_warms_up_then_decays_per_step(tmp_path: Path) -> None:
    seed_everything(0)
    task = RestorationTask(
        model="baryir-tiny",
        model_args={"dim": 8},
        num_sources=2,
        objective=BarycenterConfig(wb_solver="potentials", potentials_patch_size=16),
        lr_schedule="cosine",
        warmup_steps=4,
        min_lr_ratio=0.1,
        optimizer=lambda params: torch.optim.Adam(params, lr=1e-3),
    )
    rates = LearningRates()
    trainer = _trainer(12, [rates], tmp_path)
    trainer.fit(task, datamodule=_data(["denoise_25", "derain"]))
    base, floor = 1e-3, 1e-4
    expected = [base * (k + 1) / 4 for k in range(4)]
    expected += [floor + (base - floor) * (1 + math.cos(math.pi * k / 8)) / 2 for k in range(8)]
    assert rates.rates == pytest.approx(expected, rel=1e-6)
    potentials_lr = trainer.optimizers[1].param_groups[0]["lr"]
    network_lr = trainer.optimizers[0].param_groups[0]["lr"]
    assert potentials_lr / 1e-4 == pytest.approx(network_lr / base)


def test_cosine_schedule_needs_max_steps_and_warmup_needs_cosine(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs lr_schedule='cosine'"):
        RestorationTask(model="baryir-tiny", warmup_steps=10)
    with pytest.raises(ValueError, match="ema_decay"):
        RestorationTask(model="baryir-tiny", ema_decay=1.0)
    task = RestorationTask(
        model="baryir-tiny", model_args={"dim": 8}, num_sources=1, lr_schedule="cosine"
    )
    trainer = _trainer(-1, [], tmp_path)
    trainer.fit_loop.max_epochs = -1
    with pytest.raises(ValueError, match="needs a finite run"):
        trainer.fit(task, datamodule=_data(["denoise_25"]))


def test_ema_weights_are_what_evaluation_and_checkpoints_use(tmp_path: Path) -> None:
    seed_everything(0)
    decay = 0.5
    task = RestorationTask(
        model="baryir-tiny",
        model_args={"dim": 8},
        objective=BarycenterConfig(wb_solver="none"),
        num_sources=1,
        ema_decay=decay,
        optimizer=lambda params: torch.optim.Adam(params, lr=1e-2),
    )
    snapshots: list[dict[str, torch.Tensor]] = []

    class Snapshot(Callback):
        def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args) -> None:
            snapshots.append({k: v.clone() for k, v in pl_module.model.state_dict().items()})

    trainer = _trainer(3, [Snapshot()], tmp_path)
    trainer.fit(task, datamodule=_data(["denoise_25"]))
    # AveragedModel: the first update copies, then ema <- decay * ema + (1 - decay) * w
    key = "decoder.output.weight"
    expected = snapshots[0][key]
    for snapshot in snapshots[1:]:
        expected = decay * expected + (1 - decay) * snapshot[key]
    # AveragedModel updates in its own order (a lerp or the formula): per update at most 3
    # roundings of each side at the scale of the weights, over the snapshots' updates
    magnitude = max(float(snapshot[key].abs().max()) for snapshot in snapshots)
    atol = float32_sum_bound(3 * len(snapshots), magnitude)
    assert torch.allclose(task.ema.module.state_dict()[key], expected, atol=atol, rtol=0)
    assert not torch.allclose(task.model.state_dict()[key], expected)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(task(x), task.ema.module(x).restored)
    assert not any(p.requires_grad for p in task.ema.parameters())
    path = tmp_path / "ema.ckpt"
    trainer.save_checkpoint(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    assert torch.equal(state[f"ema.module.{key}"], task.ema.module.state_dict()[key])


def test_clean_source_pairs_are_identical_and_have_their_own_source() -> None:
    clean = TASKS["clean"]
    assert clean.synthetic == "clean"
    source = bundled_dataset(clean, "train", length=5, patch_size=24)
    for i in range(len(source)):
        item = source[i]
        assert torch.equal(item["input"], item["target"])
        assert item["target"].any()
    data = _data(["denoise_25", "derain", "clean"])
    data.setup("fit")
    assert data.source_names == ["noise", "rain", "clean"]
    assert data.source_weights.tolist() == pytest.approx([1 / 3] * 3)
