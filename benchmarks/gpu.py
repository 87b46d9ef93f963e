"""GPU benchmark: KeOps Sinkhorn, full-size training steps, inference, bf16 vs fp32.

Stages (each writes JSON lines as it finishes, so a run cut short still reports):

1. ``env``: GPU name, torch/CUDA versions.
2. ``loss_curve``: full ``baryir`` (potentials solver, released shapes) trained for
   ``--curve-steps`` steps on fixed batches (batch 8, patch 128), fp32 and bf16-mixed from the
   same initial weights; the losses, the median step times and the bf16/fp32 throughput ratio.
3. ``inference``: ``restore`` at 512/1024/2048, fp32, latency and peak GPU memory.
4. ``sinkhorn``: GeomLoss Sinkhorn, KeOps online backend (tensorized where it fits) at
   N = 4k/16k/64k points in 384 dims, forward + backward.
5. ``train_compiled``: the training step with ``torch.compile`` on the network's padded
   forward (fp32 and bf16-mixed).
6. ``step_parts``: ``bench_step.py`` on the device: per part of one training step (forward,
   objective, backward, optimiser, EMA, guard, logging, Lightning) the operations (each at least
   one kernel launch) and host synchronisations, the most expensive operations by device time,
   and the step of the real task against the bare network loop, for the quickstart's
   configuration and the full ``baryir`` at batch 8, patch 128.

``--dry-run`` runs every stage at tiny sizes on the CPU (tiny model, few steps, the tensorized
backend standing in for KeOps unless ``--keops-on-cpu``, and ``torch.compile`` with the
``eager`` backend), to check the script without a GPU.

    benchmarks/gpu.sh --out results.jsonl      # on the GPU machine
    benchmarks/gpu.sh --dry-run                # anywhere, in under a minute
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from bench_sinkhorn import bench as bench_sinkhorn  # noqa: E402
from bench_step import dry_setup, paper_setup, quickstart_setup, run_setup  # noqa: E402
from bench_train import make_task, run_steps  # noqa: E402

from baryir.inference import restore  # noqa: E402
from baryir.models import create_model  # noqa: E402

RECORDS: list[dict[str, Any]] = []


def emit(bench: str, **fields: Any) -> None:
    RECORDS.append(common.emit(bench, **fields))


class Plan:
    """Sizes of every stage: the real run or the CPU dry run."""

    def __init__(self, dry: bool) -> None:
        self.dry = dry
        self.device = "cpu" if dry else "cuda"
        self.accelerator = "cpu" if dry else "gpu"
        self.model = "baryir-tiny" if dry else "baryir"
        self.model_args = (
            {"dim": 8, "num_blocks": [1, 1, 1, 1], "num_barycenter_blocks": 1} if dry else None
        )
        self.batch = 3 if dry else 8
        self.patch = 32 if dry else 128
        self.curve_steps = 4 if dry else 200
        self.compiled_steps = 2 if dry else 12
        self.sizes = [32, 64] if dry else [512, 1024, 2048]
        self.points = [64, 128] if dry else [4096, 16384, 65536]
        self.dims = [16] if dry else [384]
        self.warmup = 1 if dry else 5
        self.precisions = ["32-true", "bf16-mixed"]
        self.compiled_precisions = ["32-true"] if dry else ["32-true", "bf16-mixed"]


def step_stats(times: list[float], warmup: int, batch: int) -> dict[str, float]:
    steady = times[warmup:] or times
    median = statistics.median(steady)
    return {"step_s": round(median, 5), "samples_per_s": round(batch / median, 2)}


def peak_gpu_mb(plan: Plan) -> float | None:
    if plan.dry:
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def reset_peak(plan: Plan) -> None:
    if not plan.dry:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def stage_env(plan: Plan) -> None:
    fields: dict[str, Any] = {"torch": torch.__version__, "dry_run": plan.dry}
    if not plan.dry:
        props = torch.cuda.get_device_properties(0)
        fields |= {
            "gpu": torch.cuda.get_device_name(0),
            "cuda": torch.version.cuda,
            "capability": list(torch.cuda.get_device_capability(0)),
            "memory_gb": round(props.total_memory / 2**30, 1),
            "multiprocessors": props.multi_processor_count,
        }
    emit("env", **fields)


def train(plan: Plan, precision: str, steps: int, compiled: bool = False) -> Any:
    from lightning.pytorch import seed_everything

    seed_everything(0, verbose=False)
    task = make_task(plan.model, "potentials", plan.patch, plan.model_args)
    if compiled:
        # compile the padded forward: dynamo (torch 2.11) rejects the NamedTuple ``_replace``
        # in ``RestorationModel.forward``
        task.model.forward_padded = torch.compile(  # type: ignore[method-assign]
            task.model.forward_padded, backend="eager" if plan.dry else "inductor"
        )
    reset_peak(plan)
    timer = run_steps(task, plan.batch, plan.patch, steps, plan.accelerator, precision)
    return timer, peak_gpu_mb(plan)


def stage_loss_curve(plan: Plan) -> None:
    results = {}
    for precision in plan.precisions:
        timer, peak = train(plan, precision, plan.curve_steps)
        stats = step_stats(timer.times, plan.warmup, plan.batch)
        results[precision] = (timer, stats)
        emit(
            "train_step",
            model=plan.model,
            solver="potentials",
            precision=precision,
            batch=plan.batch,
            patch=plan.patch,
            steps=len(timer.times),
            peak_gpu_mem_mb=peak,
            **stats,
        )
    fp32, bf16 = (results[p][0].losses for p in plan.precisions)
    tail = max(1, len(fp32) // 10)
    emit(
        "loss_curve",
        model=plan.model,
        batch=plan.batch,
        patch=plan.patch,
        steps=len(fp32),
        fp32=[round(v, 4) for v in fp32],
        bf16=[round(v, 4) for v in bf16],
        fp32_tail_mean=round(statistics.fmean(fp32[-tail:]), 4),
        bf16_tail_mean=round(statistics.fmean(bf16[-tail:]), 4),
        max_rel_diff=round(
            max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(fp32, bf16, strict=True)), 4
        ),
        bf16_throughput_ratio=round(
            results["32-true"][1]["step_s"] / results["bf16-mixed"][1]["step_s"], 3
        ),
    )


def stage_inference(plan: Plan) -> None:
    torch.manual_seed(0)
    model = create_model(plan.model, **(plan.model_args or {})).to(plan.device).eval()
    for size in plan.sizes:
        image = torch.rand(3, size, size, device=plan.device)
        run = lambda: restore(model, image)  # noqa: E731, B023
        reset_peak(plan)
        run()
        peak = peak_gpu_mb(plan)
        median, times = common.median_time(run, repeats=3, warmup=0, sync=not plan.dry)
        emit(
            "inference",
            device=plan.device,
            model=plan.model,
            size=size,
            precision="fp32",
            latency_s=round(median, 5),
            peak_gpu_mem_mb=peak,
            times_s=[round(t, 5) for t in times],
        )


def stage_sinkhorn(plan: Plan, keops_on_cpu: bool) -> None:
    online = not plan.dry or keops_on_cpu
    backends = ["online", "tensorized"] if online else ["tensorized"]
    bench_sinkhorn(
        plan.points,
        plan.dims,
        backends,
        repeats=3,
        device=plan.device,
        online_max_s=60.0,
        max_tensorized=128 if plan.dry else 16384,
        emit_fn=emit,
    )


def stage_compiled(plan: Plan, deadline: float) -> None:
    for precision in plan.compiled_precisions:
        if time.perf_counter() > deadline:
            emit("skipped", stage=f"compiled {precision}", reason="budget spent")
            continue
        start = time.perf_counter()
        timer, peak = train(plan, precision, plan.compiled_steps, compiled=True)
        emit(
            "train_step",
            model=plan.model,
            solver="potentials",
            precision=precision,
            compiled=True,
            batch=plan.batch,
            patch=plan.patch,
            steps=len(timer.times),
            first_step_s=round(timer.times[0], 2),
            total_s=round(time.perf_counter() - start, 2),
            peak_gpu_mem_mb=peak,
            **step_stats(timer.times, min(2, len(timer.times) - 1), plan.batch),
        )


def stage_step_parts(plan: Plan) -> None:
    paper = paper_setup(quick=False)
    paper.batch = plan.batch
    for setup in (quickstart_setup(), paper):
        setup = dry_setup(setup) if plan.dry else setup
        steps = 2 if plan.dry else 20
        emit(
            "train_step_parts",
            device=plan.device,
            **run_setup(setup, steps, 1 if plan.dry else 3, plan.accelerator),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="also write every record here")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for all stages")
    parser.add_argument("--keops-on-cpu", action="store_true")
    parser.add_argument("--curve-steps", type=int, default=None)
    parser.add_argument(
        "--stages",
        nargs="+",
        default=["env", "step_parts", "loss_curve", "inference", "sinkhorn", "compiled"],
    )
    args = parser.parse_args(argv)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    plan = Plan(args.dry_run)
    if args.curve_steps:
        plan.curve_steps = args.curve_steps
    if not plan.dry and not torch.cuda.is_available():
        print("gpu.py: no CUDA device (use --dry-run on a CPU)", file=sys.stderr)
        return 2
    if plan.dry:
        common.set_threads("auto")
    # minimum seconds a stage needs to be started
    needs = {
        "env": 0,
        "step_parts": 60,
        "loss_curve": 60,
        "inference": 30,
        "sinkhorn": 30,
        "compiled": 120,
    }
    start = time.perf_counter()
    stages: dict[str, Callable[[], None]] = {
        "env": lambda: stage_env(plan),
        "step_parts": lambda: stage_step_parts(plan),
        "loss_curve": lambda: stage_loss_curve(plan),
        "inference": lambda: stage_inference(plan),
        "sinkhorn": lambda: stage_sinkhorn(plan, args.keops_on_cpu),
        "compiled": lambda: stage_compiled(plan, start + args.budget - needs["compiled"]),
    }
    failed = 0
    for name in args.stages:
        left = args.budget - (time.perf_counter() - start)
        if not plan.dry and left < needs[name]:
            emit("skipped", stage=name, reason=f"{left:.0f} s left of the budget")
            continue
        stage_start = time.perf_counter()
        try:
            stages[name]()
        except Exception as error:
            failed += 1
            emit("error", stage=name, error=f"{type(error).__name__}: {error}"[:500])
            traceback.print_exc()
        emit("stage_done", stage=name, seconds=round(time.perf_counter() - stage_start, 2))
        if args.out:
            args.out.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
