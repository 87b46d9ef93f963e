"""Where a training step goes: operations and host synchronisations by part, and the step of the
real ``RestorationTask`` against the bare network loop, in one run.

Two setups:

- ``quickstart``: ``configs/quickstart.yaml`` as it is (``baryir-tiny``, its objective,
  optimiser, EMA, schedule, batch, patch and number of sources; a CSV logger at its
  ``log_every_n_steps``).
- ``paper``: the full ``baryir`` at the paper's batch 3 and patch 128 (BARYIR.md section 5:
  RMSprop, lr 1e-4, the dual potentials with the released shapes, 3 sources); ``--quick`` uses
  batch 1 and patch 64 for a busy CPU.

For each, one training step (not a logging step, not a gradient-share step) runs under
``torch.autograd.profiler``; every top-level ``aten::`` operation (one with no ``aten::``
operation above it: on a GPU at least one kernel launch) and every host synchronisation
(``aten::_local_scalar_dense``: ``.item()``, ``bool(tensor)``, ``float(tensor)``) is counted
in the part it ran in: ``forward`` (the network), ``objective`` (the loss terms), ``backward``,
``optimiser`` (step, zero_grad, learning-rate schedulers), ``potentials`` (the dual
potentials' own step, ``wb_solver: potentials``), ``ema``, ``guard`` (the non-finite checks),
``logging`` (``self.log``) and ``lightning`` (everything else from batch start to batch end).
The same is counted for one step of the bare loop.

Then ``--steps`` steps are timed from ``on_train_batch_start`` to ``on_train_batch_end`` (data
loading excluded), and after each one, on the same batch, one step of the bare network loop
(forward, L1, backward, the task's optimiser class and settings, zero_grad) on a copy of the
network: the two are interleaved step by step, so load on a shared machine hits both alike. The
``sinkhorn`` row times the alignment term alone (pooled points, the quickstart's barycenter
shape) forward and backward, with its operation and synchronisation counts.

    python benchmarks/bench_step.py                       # quickstart and full `baryir`
    python benchmarks/bench_step.py --setups quickstart --steps 30
    python benchmarks/bench_step.py --quick               # full `baryir` at batch 1, patch 64
    python benchmarks/bench_step.py --dry-run             # tiny sizes, seconds (the CI check)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import functools
import inspect
import logging
import operator
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import yaml
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, fit_quietly, set_threads  # noqa: E402

from baryir.data.degradation_tasks import TASKS  # noqa: E402
from baryir.losses import SinkhornAlignment  # noqa: E402
from baryir.tasks import BarycenterConfig  # noqa: E402
from baryir.tasks.restoration import RestorationTask  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARTS = (
    "forward",
    "objective",
    "backward",
    "optimiser",
    "potentials",
    "ema",
    "guard",
    "logging",
    "lightning",
)
SYNC = "aten::_local_scalar_dense"
# what .item(), float(t) and bool(t) dispatch to: a read under any other operation is made
# inside a kernel (the CPU's fused Adam reads its step counts) and is no host synchronisation
READS = {"aten::item", "aten::is_nonzero", SYNC}


@dataclass
class Setup:
    """One configuration: the task's arguments, the batch and the data's sources."""

    name: str
    task_args: dict[str, Any]
    batch: int
    patch: int
    tasks: list[str]
    optimizer: Callable[[Any], torch.optim.Optimizer]
    log_every_n_steps: int = 50
    max_steps: int = 0


def optimizer_factory(spec: dict[str, Any] | None) -> Callable[[Any], torch.optim.Optimizer]:
    """``class_path``/``init_args`` as in a config, or RMSprop lr 1e-4 (the task's default)."""
    if spec is None:
        return functools.partial(torch.optim.RMSprop, lr=1e-4)
    module, _, name = spec["class_path"].rpartition(".")
    cls = getattr(sys.modules.get(module) or __import__(module, fromlist=[name]), name)
    return functools.partial(cls, **spec.get("init_args", {}))


def quickstart_setup(config: Path = ROOT / "configs" / "quickstart.yaml") -> Setup:
    """The quickstart's task, batch, patch, sources and logging interval, read from its YAML."""
    data = yaml.safe_load(config.read_text())
    model = dict(data["model"])
    spec = model.pop("optimizer", None)
    tasks = list(data["data"]["tasks"])
    model["objective"] = BarycenterConfig(**model.get("objective", {}))
    model.pop("grad_shares", None)  # the parts are counted on a step that measures none
    model["num_sources"] = len({TASKS[t].source for t in tasks})
    return Setup(
        "quickstart",
        model,
        data["data"]["batch_size"],
        data["data"]["patch_size"],
        tasks,
        optimizer_factory(spec),
        data["trainer"].get("log_every_n_steps", 50),
        data["trainer"].get("max_steps", 0),
    )


def paper_setup(quick: bool) -> Setup:
    """The full ``baryir`` with the paper's solver, optimiser, batch and patch (3 sources)."""
    patch = 64 if quick else 128
    args = {
        "model": "baryir",
        "num_sources": 3,
        "objective": BarycenterConfig(
            wb_solver="potentials", potentials_pooling="released", potentials_patch_size=patch
        ),
    }
    tasks = ["denoise_15", "denoise_25", "denoise_50", "derain", "dehaze"]
    return Setup("paper", args, 1 if quick else 3, patch, tasks, optimizer_factory(None))


def dry_setup(base: Setup) -> Setup:
    """``base`` at tiny sizes: a small ``baryir-tiny``, batch 4, patch 32."""
    args = dict(base.task_args)
    args["model"] = "baryir-tiny"
    args["model_args"] = {"dim": 8, "num_blocks": [1, 1, 1, 1], "num_barycenter_blocks": 1}
    if args["objective"].wb_solver == "potentials":
        args["objective"] = dataclasses.replace(args["objective"], potentials_patch_size=32)
    return Setup(
        base.name, args, 4, 32, base.tasks, base.optimizer, base.log_every_n_steps, base.max_steps
    )


class FixedBatches(Dataset):
    """Fixed random samples cycling over ``tasks`` (each sample's fine degradation and source)."""

    def __init__(self, length: int, patch: int, tasks: list[str], seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.target = torch.rand(length, 3, patch, patch, generator=generator)
        noise = 0.1 * torch.randn(length, 3, patch, patch, generator=generator)
        self.input = (self.target + noise).clamp(0, 1)
        sources = sorted({TASKS[t].source for t in tasks})
        self.labels = [(TASKS[t].fine_id, sources.index(TASKS[t].source)) for t in tasks]

    def __len__(self) -> int:
        return self.input.shape[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        degradation, source = self.labels[index % len(self.labels)]
        return {
            "input": self.input[index],
            "target": self.target[index],
            "degradation": degradation,
            "source": source,
        }


def _wrap(owner: Any, attribute: str, part: str) -> None:
    """Run ``owner.attribute`` inside ``record_function("part:<part>")`` (an instance attribute)."""
    method = getattr(owner, attribute)

    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with torch.autograd.profiler.record_function(f"part:{part}"):
            return method(*args, **kwargs)

    setattr(owner, attribute, wrapped)


def instrument_task(task: RestorationTask, trainer: Trainer) -> None:
    """Mark the parts of ``training_step`` for the profiler (after the optimisers exist)."""
    _wrap(task.model, "forward", "forward")
    _wrap(task.objective.objective, "weighted_terms", "objective")
    _wrap(task, "manual_backward", "backward")
    _wrap(task, "log", "logging")
    for method in ("check", "inspect", "record", "flush"):
        if hasattr(task.guard, method):
            _wrap(task.guard, method, "guard")
    for optimizer in trainer.optimizers:
        _wrap(optimizer, "step", "optimiser")
        _wrap(optimizer, "zero_grad", "optimiser")
    for config in trainer.lr_scheduler_configs:
        _wrap(config.scheduler, "step", "optimiser")
    if task.ema is not None:
        _wrap(task.ema, "update_parameters", "ema")
    module = sys.modules[type(task).__module__]
    for name, part in (("update_average", "ema"), ("pixel_loss", "objective")):
        if hasattr(module, name):
            _wrap(module, name, part)
    if task.potentials is not None:
        _wrap(task.objective, "potentials_step", "potentials")


def profile_summary(prof: Any, top: int) -> list[dict[str, Any]]:
    """The ``top`` operations of a profiled step by self time (on the device when there is
    one, else on the CPU): name, calls, self CPU and self device microseconds."""
    rows = [
        {
            "name": e.key,
            "calls": e.count,
            "self_cpu_us": round(e.self_cpu_time_total, 1),
            "self_device_us": round(getattr(e, "self_device_time_total", 0.0), 1),
        }
        for e in prof.key_averages()
        if not e.key.startswith("part:")
    ]
    device = any(r["self_device_us"] for r in rows)
    rows.sort(key=lambda r: r["self_device_us" if device else "self_cpu_us"], reverse=True)
    return rows[:top]


def count_parts(events: Any) -> dict[str, dict[str, int]]:
    """Top-level ``aten::`` operations and host syncs per part of a profiled region.

    An operation belongs to the innermost ``part:*`` range that contains its start (any thread,
    so a backward run by the autograd engine's own threads counts too), else to ``lightning``.
    """
    ranges = [
        (e.time_range.start, e.time_range.end, e.name[5:])
        for e in events
        if e.name.startswith("part:")
    ]

    def part_of(event: Any) -> str:
        start = event.time_range.start
        inside = [r for r in ranges if r[0] <= start <= r[1]]
        return min(inside, key=lambda r: r[1] - r[0])[2] if inside else "lightning"

    def top_level(event: Any) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name.startswith("aten::"):
                return False
            parent = parent.cpu_parent
        return True

    def host_read(event: Any) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name.startswith("aten::") and parent.name not in READS:
                return False
            parent = parent.cpu_parent
        return True

    ops: Counter[str] = Counter()
    syncs: Counter[str] = Counter()
    names: dict[str, Counter[str]] = {}
    for event in events:
        if event.name == SYNC and host_read(event):
            syncs[part_of(event)] += 1
        if event.name.startswith("aten::") and top_level(event):
            part = part_of(event)
            ops[part] += 1
            names.setdefault(part, Counter())[event.name] += 1
    if os.environ.get("BENCH_STEP_NAMES"):
        for part, counter in names.items():
            print(f"# {part}: {counter.most_common(int(os.environ['BENCH_STEP_NAMES']))}")
    return {
        "ops": {p: ops[p] for p in PARTS if p in ops or p in ("forward", "backward")},
        "syncs": {p: syncs[p] for p in PARTS if p in syncs},
    }


class BareLoop:
    """forward, L1, backward, optimiser step, zero_grad on a copy of the network, with an
    optimiser of the task's class and settings (its implementation, fused or not, included)."""

    def __init__(self, network: torch.nn.Module, like: torch.optim.Optimizer) -> None:
        self.network = copy.deepcopy(network)
        accepted = inspect.signature(type(like)).parameters
        settings = {k: v for k, v in like.defaults.items() if k in accepted}
        self.optimizer = type(like)(self.network.parameters(), **settings)

    def step(self, batch: dict[str, Any]) -> None:
        restored = self.network(batch["input"]).restored
        F.l1_loss(restored, batch["target"]).backward()
        self.optimizer.step()
        self.optimizer.zero_grad()

    def profiled(self, batch: dict[str, Any]) -> dict[str, dict[str, int]]:
        """One step of the bare loop counted by part."""
        with torch.autograd.profiler.profile() as prof:
            with torch.autograd.profiler.record_function("part:forward"):
                restored = self.network(batch["input"]).restored
            with torch.autograd.profiler.record_function("part:objective"):
                loss = F.l1_loss(restored, batch["target"])
            with torch.autograd.profiler.record_function("part:backward"):
                loss.backward()
            with torch.autograd.profiler.record_function("part:optimiser"):
                self.optimizer.step()
                self.optimizer.zero_grad()
        return count_parts(prof.function_events)


class SideBySide(Callback):
    """Profiles step ``profile_at``, times every other step until ``steps``, and runs one
    bare-loop step on the same batch after each (CUDA-synchronised on GPUs)."""

    def __init__(self, profile_at: int, steps: int, top: int = 15) -> None:
        self.top = top
        self.summary: list[dict[str, Any]] = []
        self.profile_at = profile_at
        self.steps = steps
        self.task_s: list[float] = []
        self.bare_s: list[float] = []
        self.counts: dict[str, Any] = {}
        self._profiler: Any = None
        self._start = 0.0

    def _sync(self, module: Any) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize(module.device)

    def on_train_start(self, trainer: Trainer, pl_module: Any) -> None:
        self.bare = BareLoop(pl_module.model, trainer.optimizers[0])
        instrument_task(pl_module, trainer)

    def on_train_batch_start(self, trainer: Trainer, pl_module: Any, batch: Any, idx: int) -> None:
        if trainer.global_step == self.profile_at:
            cuda = pl_module.device.type == "cuda"
            self._profiler = torch.autograd.profiler.profile(use_device="cuda" if cuda else None)
            self._profiler.__enter__()
        self._sync(pl_module)
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: Any, outputs: Any, batch: Any, idx: int
    ) -> None:
        self._sync(pl_module)
        elapsed = time.perf_counter() - self._start
        # the run is as long as the config's (its schedule needs it) but stops after `steps`
        trainer.should_stop = trainer.global_step >= self.steps
        if self._profiler is not None:
            self._profiler.__exit__(None, None, None)
            self.counts = {
                "task": count_parts(self._profiler.function_events),
                "bare": self.bare.profiled(batch),
            }
            self.summary = profile_summary(self._profiler, self.top)
            self._profiler = None
            return
        self.task_s.append(elapsed)
        self._sync(pl_module)
        start = time.perf_counter()
        self.bare.step(batch)
        self._sync(pl_module)
        self.bare_s.append(time.perf_counter() - start)


def run_setup(setup: Setup, steps: int, warmup: int, accelerator: str = "cpu") -> dict[str, Any]:
    """Fit the task for ``warmup + 1 + steps`` steps; the profiled step is step ``warmup``."""
    seed_everything(0, verbose=False)
    task = RestorationTask(optimizer=setup.optimizer, **setup.task_args)
    profile_at = warmup if warmup % setup.log_every_n_steps else warmup + 1
    total = profile_at + 1 + steps
    timer = SideBySide(profile_at, total)
    data = FixedBatches(setup.batch * 8, setup.patch, setup.tasks)
    with tempfile.TemporaryDirectory() as logs:
        trainer = fit_quietly(
            task,
            DataLoader(data, batch_size=setup.batch, shuffle=False),
            [timer],
            max(total, setup.max_steps),
            accelerator=accelerator,
            logger=CSVLogger(logs, name="bench"),
            log_every_n_steps=setup.log_every_n_steps,
        )
    # steps before `warmup` and the profiled one are not timed
    task_s, bare_s = timer.task_s[profile_at:], timer.bare_s[profile_at:]
    task_median, bare_median = statistics.median(task_s), statistics.median(bare_s)
    optimizer = trainer.optimizers[0]
    return {
        "setup": setup.name,
        "model": setup.task_args["model"],
        "wb_solver": task.wb_solver,
        "batch": setup.batch,
        "patch": setup.patch,
        "num_sources": setup.task_args["num_sources"],
        "optimizer": type(optimizer).__name__,
        "optimizer_impl": optimizer_impl(optimizer),
        "counts": timer.counts,
        "top_ops": timer.summary,
        "task_step_s": round(task_median, 4),
        "bare_step_s": round(bare_median, 4),
        "ratio": round(task_median / bare_median, 3),
        "paired_ratio": round(statistics.median(map(operator.truediv, task_s, bare_s)), 3),
        "task_times_s": [round(t, 4) for t in task_s],
        "bare_times_s": [round(t, 4) for t in bare_s],
    }


def optimizer_impl(optimizer: torch.optim.Optimizer) -> str:
    """``fused``, ``foreach`` or ``for-loop``: the implementation the optimiser's settings ask
    for (``foreach=None`` is torch's default: foreach for CUDA tensors only)."""
    group = optimizer.param_groups[0]
    if group.get("fused"):
        return "fused"
    if group.get("foreach") or (group.get("foreach") is None and group["params"][0].is_cuda):
        return "foreach"
    return "for-loop"


@contextlib.contextmanager
def _profile() -> Iterator[Any]:
    with torch.autograd.profiler.profile() as prof:
        yield prof


def _ops_and_syncs(prof: Any) -> tuple[int, int]:
    counts = count_parts(prof.function_events)
    return sum(counts["ops"].values()), sum(counts["syncs"].values())


def bench_sinkhorn(
    batch: int, channels: int, side: int, sources: int, repeats: int, device: str = "cpu"
) -> dict[str, Any]:
    """The pooled-points alignment term alone: operations, syncs and time, forward + backward."""
    generator = torch.Generator().manual_seed(0)
    barycenter = torch.randn(batch, channels, side, side, generator=generator).to(device)
    barycenter.requires_grad_()
    source = (torch.arange(batch) % sources).to(device)
    weights = torch.full((sources,), 1.0 / sources, device=device)
    align = SinkhornAlignment(points="pooled", backend="tensorized")

    def loss() -> torch.Tensor:
        out = align(barycenter, source, weights)
        return getattr(out, "loss", out)

    def step() -> None:
        barycenter.grad = None
        loss().backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    step()
    with _profile() as forward_prof:
        value = loss()
    with _profile() as backward_prof:
        value.backward()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    forward_ops, forward_syncs = _ops_and_syncs(forward_prof)
    backward_ops, backward_syncs = _ops_and_syncs(backward_prof)
    return {
        "batch": batch,
        "channels": channels,
        "side": side,
        "sources": sources,
        "forward_ops": forward_ops,
        "backward_ops": backward_ops,
        "syncs": forward_syncs + backward_syncs,
        "fwd_bwd_s": round(statistics.median(times), 5),
        "times_s": [round(t, 5) for t in times],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", nargs="+", default=["quickstart", "paper"])
    parser.add_argument("--steps", type=int, default=20, help="timed steps (each side)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="full `baryir` at batch 1, patch 64")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes, a few steps")
    parser.add_argument("--threads", default="auto", help="torch threads (auto: see common.py)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    makers = {"quickstart": quickstart_setup, "paper": lambda: paper_setup(args.quick)}
    for name in args.setups:
        setup = makers[name]()
        steps, warmup = args.steps, args.warmup
        if args.dry_run:
            setup, steps, warmup = dry_setup(setup), 2, 1
        elif name == "paper":
            steps, warmup = min(steps, 3 if args.quick else 2), 1
        emit("train_step_parts", device="cpu", **run_setup(setup, steps, warmup))
    repeats = 3 if args.dry_run else 20
    for sources in (4, 6):
        emit("sinkhorn_pooled", device="cpu", **bench_sinkhorn(8, 96, 6, sources, repeats))


if __name__ == "__main__":
    main()
