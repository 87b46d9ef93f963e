"""The training step's bookkeeping costs no arithmetic: fused/foreach optimisers update as the
plain ones do, the EMA without a host read matches ``AveragedModel``, and a step of the
quickstart's task reads nothing from the device (the non-finite guard's flag stays there; once
a step with ``guard.check: immediate``)."""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader

from baryir.models import create_model
from baryir.tasks import BarycenterConfig, GuardConfig, RestorationTask, ShareConfig
from baryir.tasks.average import update_average
from baryir.tasks.callbacks import IntervalProgressBar
from baryir.tasks.kernels import with_kernels
from tiny_run import quiet_trainer

TINY = {"dim": 8, "num_blocks": [1, 1, 1, 1], "num_barycenter_blocks": 1}


def _train(model: torch.nn.Module, optimizer: torch.optim.Optimizer, steps: int = 4) -> None:
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.rand(2, 3, 16, 16, generator=generator)
        out = model(x)
        (out.restored - x).abs().mean().add(out.barycenter.square().mean()).backward()
        optimizer.step()
        optimizer.zero_grad()


@pytest.mark.parametrize(
    ("factory", "kind"),
    [
        (partial(torch.optim.Adam, lr=2e-3), "fused"),
        (partial(torch.optim.AdamW, lr=1e-3, weight_decay=0.1), "fused"),
        (partial(torch.optim.RMSprop, lr=1e-4), "foreach"),
        (partial(torch.optim.SGD, lr=1e-2, momentum=0.9), "fused"),
    ],
)
def test_optimizer_kernels_update_as_the_plain_loop(factory, kind: str) -> None:
    torch.manual_seed(0)
    plain = create_model("baryir-tiny", **TINY)
    fast = copy.deepcopy(plain)
    optimizer = with_kernels(factory(fast.parameters()), "auto")
    assert optimizer.defaults[kind] is True and type(optimizer) is factory.func
    _train(plain, factory(plain.parameters()))
    _train(fast, optimizer)
    # the kernels round in another order, which Adam's m / (sqrt(v) + eps) amplifies where a
    # gradient is near zero: after 4 steps parameters agree to 1e-2 of one step's size
    lr = optimizer.defaults["lr"]
    for a, b in zip(plain.parameters(), fast.parameters(), strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-2 * lr)


def test_optimizer_kernels_respect_the_optimizer_own_choice() -> None:
    params = list(torch.nn.Linear(3, 3).parameters())
    own = torch.optim.Adam(params, foreach=False)
    assert with_kernels(own, "auto") is own
    plain = torch.optim.Adam(params)
    assert with_kernels(plain, "default") is plain
    assert with_kernels(torch.optim.RMSprop(params), "foreach").defaults["foreach"] is True
    with pytest.raises(ValueError, match="RMSprop has none"):
        with_kernels(torch.optim.RMSprop(params), "fused")
    with pytest.raises(ValueError, match="optimizer_kernels"):
        with_kernels(plain, "fast")  # type: ignore[arg-type]


def test_update_average_equals_averaged_model() -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny", **TINY)
    ours = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    torch_s = copy.deepcopy(ours)
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        update_average(ours, model, 0.9)
        torch_s.update_parameters(model)
    assert int(ours.n_averaged) == int(torch_s.n_averaged) == 3
    for a, b in zip(ours.parameters(), torch_s.parameters(), strict=True):
        assert torch.equal(a, b)


def test_update_average_holds_still_on_a_skipped_step() -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny", **TINY)
    ours = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    reference = copy.deepcopy(ours)
    for skip in (False, True, False):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        update_average(ours, model, 0.9, skip=torch.tensor(skip))
        if not skip:
            reference.update_parameters(model)
    assert int(ours.n_averaged) == int(reference.n_averaged) == 2
    for a, b in zip(ours.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)


class _Batches(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 16

    def __getitem__(self, i: int) -> dict:
        x = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(i))
        return {"input": x, "target": x, "degradation": i % 4, "source": i % 4}


class _CountReads(Callback):
    """Host reads of training step ``at``."""

    def __init__(self, at: int) -> None:
        self.at, self.reads, self.profiler = at, -1, None

    def on_train_batch_start(self, trainer, pl_module, batch, idx) -> None:
        if trainer.global_step == self.at:
            self.profiler = torch.autograd.profiler.profile()
            self.profiler.__enter__()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, idx) -> None:
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)
            events = self.profiler.function_events
            self.reads = sum(_host_read(e) for e in events)
            self.profiler = None


def _host_read(event) -> bool:
    """``.item()``, ``float(t)``, ``bool(t)``: a read under no other operation (the CPU's fused
    Adam kernel reads its step counts from host memory; the CUDA one does not)."""
    if event.name != "aten::_local_scalar_dense":
        return False
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("aten::") and parent.name not in (
            "aten::item",
            "aten::is_nonzero",
        ):
            return False
        parent = parent.cpu_parent
    return True


@pytest.mark.parametrize(("check", "reads"), [("auto", 0), ("immediate", 1)])
def test_quickstart_step_reads_nothing_from_the_device(
    tmp_path: Path, check: str, reads: int
) -> None:
    # the quickstart's solver, points, EMA, schedule and optimiser; a step that neither logs
    # nor measures the gradient shares: no host read (the immediate guard: one)
    seed_everything(0)
    task = RestorationTask(
        model="baryir-tiny",
        model_args=TINY,
        num_sources=4,
        objective=BarycenterConfig(sinkhorn_points="pooled"),
        ema_decay=0.95,
        lr_schedule="cosine",
        warmup_steps=2,
        grad_shares=ShareConfig(every=100),
        optimizer=partial(torch.optim.Adam, lr=2e-3),
        guard=GuardConfig(check=check),
    )
    counter = _CountReads(at=2)
    trainer = quiet_trainer(
        max_steps=4,
        log_every_n_steps=25,
        logger=True,
        default_root_dir=tmp_path,
        callbacks=[counter],
    )
    trainer.fit(task, train_dataloaders=DataLoader(_Batches(), batch_size=4))
    assert trainer.optimizers[0].defaults["fused"] is True
    assert task.guard.deferred is (check == "auto")
    assert counter.reads == reads


class _Postfix(Callback):
    """The bar's text at the start of every batch (what the previous batch end showed)."""

    def __init__(self, bar: IntervalProgressBar) -> None:
        self.bar, self.seen = bar, []

    def on_train_batch_start(self, trainer, pl_module, batch, idx) -> None:
        self.seen.append(self.bar.train_progress_bar.postfix or "")


def _fit(tmp_path: Path, steps: int, every: int, callbacks: list) -> Trainer:
    """A quickstart-like fit of ``steps`` steps in one epoch, logging every ``every``."""
    seed_everything(0)
    task = RestorationTask(
        model="baryir-tiny",
        model_args=TINY,
        num_sources=4,
        objective=BarycenterConfig(sinkhorn_points="pooled"),
        optimizer=partial(torch.optim.Adam, lr=2e-3),
    )
    trainer = quiet_trainer(
        max_steps=steps,
        log_every_n_steps=every,
        default_root_dir=tmp_path,
        enable_progress_bar=True,
        callbacks=callbacks,
    )
    trainer.fit(task, train_dataloaders=DataLoader(_Batches(), batch_size=2))
    return trainer


def _fit_reads(tmp_path: Path, steps: int) -> int:
    """Host reads of a whole fit with the bar (no logging step)."""
    with torch.autograd.profiler.profile() as prof:
        _fit(tmp_path, steps, 100, [IntervalProgressBar()])
    return sum(_host_read(e) for e in prof.function_events)


def test_progress_bar_adds_no_host_read_between_logs(tmp_path: Path) -> None:
    assert _fit_reads(tmp_path, 7) == _fit_reads(tmp_path, 3)


def test_progress_bar_shows_the_loss_of_the_last_logging_step(tmp_path: Path) -> None:
    bar = IntervalProgressBar()
    postfix = _Postfix(bar)
    _fit(tmp_path, 7, 2, [bar, postfix])
    # the ends of batches 1, 3, 5 are logging steps (global step 2, 4, 6)
    before_first, *shown = postfix.seen[1:]
    assert "train/loss" not in before_first
    assert all(text.startswith("train/loss=") for text in shown)
    assert shown[0] == shown[1] != shown[2] == shown[3] != shown[4]
