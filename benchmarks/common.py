"""Shared helpers of the benchmarks: machine description, timing, one JSON line per result."""

from __future__ import annotations

import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

from baryir.provenance import UNKNOWN, git_revision, timestamp

__all__ = [
    "RATES_ENV",
    "RUN_ENV",
    "PeakMemory",
    "matmul_rates",
    "network_gflop",
    "rate_fields",
    "commit",
    "cpu_model",
    "emit",
    "machine",
    "median_time",
    "peak_rss_mb",
    "run_id",
    "set_threads",
]

RUN_ENV = "BARYIR_BENCH_RUN"
"""The environment variable that carries a run's id from ``run_all.py`` to its scripts."""

RATES_ENV = "BARYIR_BENCH_RATES"
"""The environment variable that carries the machine's matrix rates (JSON, GFLOP/s by
precision) from ``run_all.py``'s first measurement to its scripts."""

MATMUL_SIDE = 2048
"""Side of the square matrices whose product is the machine's matrix rate."""


def _matmul_rate(dtype: torch.dtype, repeats: int) -> float:
    """GFLOP/s of a ``MATMUL_SIDE`` square product in ``dtype``: the best of ``repeats``."""
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(MATMUL_SIDE, MATMUL_SIDE, generator=generator).to(dtype)
    b = torch.rand(MATMUL_SIDE, MATMUL_SIDE, generator=generator).to(dtype)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * MATMUL_SIDE**3 / best / 1e9


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@functools.cache
def matmul_rates(repeats: int = 5) -> dict[str, float]:
    """The machine's matrix rates at torch's current threads, GFLOP/s: ``{"fp32", "bf16"}``.

    A 2048 x 2048 product, the best of ``repeats`` (the rate the cores reach, not the load's);
    ``$BARYIR_BENCH_RATES`` (set by ``run_all.py`` after its first measurement) wins, so every
    script of a run divides by the same rates.
    """
    given = os.environ.get(RATES_ENV)
    if given:
        return {key: float(value) for key, value in json.loads(given).items()}
    return {
        "fp32": round(_matmul_rate(torch.float32, repeats), 1),
        "bf16": round(_matmul_rate(torch.bfloat16, repeats), 1),
    }


def network_gflop(model: torch.nn.Module, shape: tuple[int, ...], backward: bool = False) -> float:
    """GFLOP of ``model`` on an input of ``shape`` (forward, or forward and backward of an L1
    loss), counted by ``torch.utils.flop_counter.FlopCounterMode`` on a copy of the model on the
    meta device (nothing is computed)."""
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    meta = copy.deepcopy(model).to("meta")
    image = torch.rand(shape, device="meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.set_grad_enabled(backward):
        output = meta(image)
        restored = output if isinstance(output, torch.Tensor) else output.restored
        if backward:
            (restored - image).abs().mean().backward()
    return counter.get_total_flops() / 1e9


def rate_fields(gflop: float, seconds: float, precision: str = "fp32") -> dict[str, Any]:
    """``gflop`` done in ``seconds`` as a record's fields: the GFLOP, GFLOP/s, the machine's
    matrix rate in ``precision`` (:func:`matmul_rates`) and the share of it reached."""
    rate = matmul_rates()[precision]
    achieved = gflop / seconds
    return {
        "gflop": round(gflop, 2),
        "gflop_per_s": round(achieved, 1),
        "matmul_gflop_per_s": rate,
        "roofline_share": round(achieved / rate, 4),
    }


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, torch, threads, load average, GPU."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "loadavg": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def median_time(
    fn: Callable[[], Any], repeats: int = 3, warmup: int = 1, sync: bool = False
) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if sync:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if sync:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``ru_maxrss``)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@functools.cache
def commit() -> str:
    """The benchmarked code's commit: the short ``git rev-parse HEAD`` of the repository that
    holds the imported ``baryir`` (``unknown`` outside a git checkout)."""
    revision = git_revision()
    return revision if revision == UNKNOWN else revision[:7]


@functools.cache
def run_id() -> str:
    """The run these results belong to: ``$BARYIR_BENCH_RUN`` (one id per ``run_all.py``
    invocation, for all its scripts), else the time this process first asked (a script run
    alone). Tables select one run of a results file by it."""
    return os.environ.get(RUN_ENV) or timestamp()


def emit(bench: str, **fields: Any) -> dict[str, Any]:
    """Print one JSON line ``{"bench", "commit", "run", fields..., "machine"}`` and return it
    (``fields`` may override ``commit`` and ``run``)."""
    record = {"bench": bench, "commit": commit(), "run": run_id(), **fields, "machine": machine()}
    print(json.dumps(record), flush=True)
    sys.stdout.flush()
    return record


def set_threads(threads: str | int | None) -> int:
    """Set torch's intra-op threads: an int, or ``"auto"``/None.

    ``"auto"`` keeps every core when the machine is idle and uses 1 thread when the 1-minute
    load average is at least the core count: on an oversubscribed machine OpenMP's barriers
    make 2 threads several times slower than 1 (measured 8x on the shared 2-core box).
    ``BENCH_THREADS`` in the environment overrides the default.
    """
    threads = os.environ.get("BENCH_THREADS", threads) if threads in (None, "auto") else threads
    if threads in (None, "auto"):
        cores = os.cpu_count() or 1
        threads = 1 if os.getloadavg()[0] >= cores else cores
    torch.set_num_threads(int(threads))
    return int(threads)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Peak memory of a ``with`` block: resident set on the CPU (sampled every 2 ms by a thread,
    minus the resident set at entry), ``torch.cuda.max_memory_allocated`` on a GPU.

    Attributes:
        peak_mb: peak extra memory in MiB after the block.
    """

    def __init__(self, cuda: bool = False) -> None:
        self.cuda = cuda
        self.peak_mb = 0.0

    def __enter__(self) -> PeakMemory:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return self
        import threading

        self._base = _rss_bytes()
        self._peak = self._base
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.002):
                self._peak = max(self._peak, _rss_bytes())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            self.peak_mb = (torch.cuda.max_memory_allocated() - self._base) / 2**20
            return
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, _rss_bytes())
        self.peak_mb = (self._peak - self._base) / 2**20


def fit_quietly(
    task: Any, loader: Any, callbacks: list[Any], max_steps: int, **trainer_args: Any
) -> Any:
    """``Trainer.fit`` of ``task`` on ``loader`` for ``max_steps`` training steps, and nothing
    else: no validation, checkpoints, progress bar, summary or warnings (a benchmark's loop).

    ``trainer_args`` go to the ``Trainer`` (``accelerator``, ``precision``, ``logger``, ...);
    returns the ``Trainer``.
    """
    import warnings

    from lightning.pytorch import Trainer

    trainer_args = {"devices": 1, "logger": False} | trainer_args
    trainer = Trainer(
        max_steps=max_steps,
        max_epochs=-1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=callbacks,
        **trainer_args,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(task, train_dataloaders=loader)
    return trainer
