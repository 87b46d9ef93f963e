"""Training-step time of ``RestorationTask`` per model preset and WB solver.

The real ``training_step`` runs inside a Lightning ``Trainer`` (``max_steps = warmup + repeats``)
on a fixed in-memory batch; a callback times each step (``on_train_batch_start`` to
``on_train_batch_end``, with a CUDA sync on GPUs). Prints one JSON line per configuration with
the median step time, samples/s and, per preset, the ratio of each solver to ``none`` measured
in the same process.

    python benchmarks/bench_train.py                       # the CPU set used by `make bench`
    python benchmarks/bench_train.py --models baryir --batch 3 --patch 128 --repeats 2
    python benchmarks/bench_train.py --grad-share --models baryir-tiny --batch 6 --patch 48

``--grad-share`` instead times each solver with the gradient shares measured at every step and
never, side by side, and prints the measurement's cost and its cost per step at the default
interval (``RestorationTask``'s ``grad_shares.every``).

``--reference`` times each model's step with the reference layers (``reference_layers.py``: the
straightforward float32 forwards of the release's arithmetic) and with the optimised ones, in
alternating runs of one process, and prints the ratio (optimised / reference):

    python benchmarks/bench_train.py --reference --models baryir --batch 3 --patch 128
    python benchmarks/bench_train.py --reference --models baryir --quick   # batch 1, patch 64
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, seed_everything
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, fit_quietly, network_gflop, rate_fields, set_threads  # noqa: E402
from reference_layers import reference_layers  # noqa: E402

from baryir.tasks import BarycenterConfig, ShareConfig  # noqa: E402
from baryir.tasks.restoration import RestorationTask  # noqa: E402

SOLVERS = ("none", "sinkhorn", "potentials")


class FixedBatches(Dataset):
    """``length`` samples cycling over ``sources`` degradation sources, fixed random content.

    Args:
        length: number of samples.
        patch: image side.
        num_sources: sources K (sample ``i`` belongs to source ``i % K``).
        seed: content seed.
    """

    def __init__(self, length: int, patch: int, num_sources: int = 3, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.target = torch.rand(length, 3, patch, patch, generator=generator)
        noise = 0.1 * torch.randn(length, 3, patch, patch, generator=generator)
        self.input = (self.target + noise).clamp(0, 1)
        self.num_sources = num_sources

    def __len__(self) -> int:
        return self.input.shape[0]

    def __getitem__(self, index: int) -> dict[str, Any]:
        source = index % self.num_sources
        return {
            "input": self.input[index],
            "target": self.target[index],
            "degradation": source,
            "source": source,
            "name": f"sample{index}",
        }


class StepTimer(Callback):
    """Wall time of every training step (CUDA-synchronised on GPUs) and the logged losses."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.losses: list[float] = []
        self._start = 0.0

    def _sync(self, pl_module: Any) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, idx: int) -> None:
        self._sync(pl_module)
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, idx: int
    ) -> None:
        self._sync(pl_module)
        self.times.append(time.perf_counter() - self._start)
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            self.losses.append(float(loss))


def make_task(
    model: str,
    solver: str,
    patch: int,
    model_args: dict[str, Any] | None = None,
    grad_share_every: int = 0,
) -> RestorationTask:
    """The task with the paper's defaults; ``potentials`` uses the released pooling; gradient
    shares measured every ``grad_share_every`` steps (0: never)."""
    return RestorationTask(
        model=model,
        model_args=model_args,
        grad_shares=ShareConfig(every=grad_share_every) if grad_share_every else None,
        num_sources=3,
        objective=BarycenterConfig(
            wb_solver=solver,  # type: ignore[arg-type]
            potentials_pooling="released" if patch % 8 == 0 and patch >= 16 else "adaptive",
            potentials_patch_size=patch,
            sinkhorn_backend="auto",
        ),
    )


def run_steps(
    task: RestorationTask,
    batch: int,
    patch: int,
    steps: int,
    accelerator: str = "cpu",
    precision: str = "32-true",
    num_batches: int = 8,
) -> StepTimer:
    """Fit ``task`` for ``steps`` steps on fixed batches; returns the timing callback."""
    timer = StepTimer()
    loader = DataLoader(FixedBatches(batch * num_batches, patch), batch_size=batch, shuffle=False)
    fit_quietly(task, loader, [timer], steps, accelerator=accelerator, precision=precision)
    return timer


def bench_model(
    model: str,
    solvers: tuple[str, ...],
    batch: int,
    patch: int,
    warmup: int,
    repeats: int,
    model_args: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One JSON line per solver; ratios to ``none`` from the same process."""
    rows = []
    for solver in solvers:
        seed_everything(0, verbose=False)
        task = make_task(model, solver, patch, model_args)
        timer = run_steps(task, batch, patch, warmup + repeats)
        times = timer.times[warmup:]
        median = statistics.median(times)
        # the network's forward and backward (of an L1 loss): the step's matrix work
        gflop = network_gflop(task.model, (batch, 3, patch, patch), backward=True)
        rows.append(
            {
                "model": model,
                "solver": task.wb_solver,
                "batch": batch,
                "patch": patch,
                "step_s": round(median, 4),
                "samples_per_s": round(batch / median, 3),
                "times_s": [round(t, 4) for t in times],
                **rate_fields(gflop, median),
            }
        )
    base = next((r["step_s"] for r in rows if r["solver"] == "none"), None)
    for row in rows:
        if base:
            row["ratio_to_none"] = round(row["step_s"] / base, 3)
        emit("train_step", device="cpu", **row)
    return rows


def bench_grad_share(
    model: str, solvers: tuple[str, ...], batch: int, patch: int, warmup: int, repeats: int
) -> None:
    """Step time with the gradient shares measured at every step and never, per solver."""
    default = ShareConfig().every
    for solver in solvers:
        times = {}
        for every in (0, 1):
            seed_everything(0, verbose=False)
            task = make_task(model, solver, patch, grad_share_every=every)
            times[every] = statistics.median(
                run_steps(task, batch, patch, warmup + repeats).times[warmup:]
            )
        measure = times[1] - times[0]
        emit(
            "grad_share_cost",
            model=model,
            solver=solver,
            batch=batch,
            patch=patch,
            step_s=round(times[0], 4),
            step_measured_s=round(times[1], 4),
            measurement_s=round(measure, 4),
            default_every=default,
            overhead_at_default=round(measure / default / times[0], 4),
        )


def bench_reference(
    model: str, solver: str, batch: int, patch: int, warmup: int, repeats: int
) -> None:
    """The step with the reference layers and the optimised ones, ``repeats`` alternating runs
    of ``warmup + 1`` steps each (the last step of each run timed); one JSON line."""
    times: dict[str, list[float]] = {"reference": [], "optimised": []}
    for _ in range(repeats):
        for layers in times:
            seed_everything(0, verbose=False)
            task = make_task(model, solver, patch)
            with reference_layers() if layers == "reference" else contextlib.nullcontext():
                times[layers].append(run_steps(task, batch, patch, warmup + 1).times[-1])
    reference, optimised = (statistics.median(times[k]) for k in ("reference", "optimised"))
    emit(
        "train_step_reference",
        device="cpu",
        model=model,
        solver=solver,
        batch=batch,
        patch=patch,
        reference_step_s=round(reference, 4),
        optimised_step_s=round(optimised, 4),
        ratio=round(optimised / reference, 3),
        times_s={k: [round(t, 4) for t in v] for k, v in times.items()},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["baryir-tiny", "restormer-tiny", "promptir-tiny"]
    )
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--full", action="store_true", help="also full `baryir` at batch 1 patch 64 (all solvers)"
    )
    parser.add_argument("--threads", default="auto", help="torch threads (auto: see common.py)")
    parser.add_argument("--grad-share", action="store_true", help="time the gradient shares")
    parser.add_argument(
        "--reference", action="store_true", help="reference layers against the optimised ones"
    )
    parser.add_argument("--quick", action="store_true", help="with --reference: batch 1, patch 64")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    if args.reference:
        batch, patch = (1, 64) if args.quick else (args.batch, args.patch)
        solver = args.solvers[0] if len(args.solvers) == 1 else "potentials"
        for model in args.models:
            bench_reference(model, solver, batch, patch, args.warmup, args.repeats)
        return
    if args.grad_share:
        for model in args.models:
            solvers = tuple(args.solvers) if model.startswith("baryir") else ("none",)
            bench_grad_share(model, solvers, args.batch, args.patch, args.warmup, args.repeats)
        return
    for model in args.models:
        solvers = tuple(args.solvers) if model.startswith("baryir") else ("none",)
        bench_model(model, solvers, args.batch, args.patch, args.warmup, args.repeats)
    if args.full:
        bench_model("baryir", tuple(args.solvers), 1, 64, 1, 2)


if __name__ == "__main__":
    main()
