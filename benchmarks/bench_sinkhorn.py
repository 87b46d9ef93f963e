"""The Sinkhorn alignment term alone: GeomLoss tensorized vs KeOps online, by points and dims.

``SamplesLoss("sinkhorn", p=2, blur=0.05, scaling=0.5, debias=True)`` between two random clouds
of ``N`` points in ``D`` dims, forward + backward. KeOps compiles each formula on first use
(6-60 s; cached in ``~/.cache/keops*`` afterwards): every configuration gets an untimed first
call. On a CPU KeOps is slow (about 4 s at N=256 and 56 s at N=768 on the shared 2-core box):
once an online run's median exceeds ``--online-max-s``, larger N at that D are skipped
(reported as skipped). Above ``big_n`` points a single timed call is made.

    python benchmarks/bench_sinkhorn.py --points 256 768 2048 --dims 64 384
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakMemory, emit, median_time, set_threads  # noqa: E402


def sinkhorn_fn(n: int, dims: int, backend: str, device: str, blur: float = 0.05):
    from geomloss import SamplesLoss

    generator = torch.Generator().manual_seed(n + dims)
    x = torch.randn(n, dims, generator=generator).to(device).requires_grad_()
    y = (torch.randn(n, dims, generator=generator) + 0.5).to(device)
    loss = SamplesLoss("sinkhorn", p=2, blur=blur, scaling=0.5, debias=True, backend=backend)

    def step() -> None:
        x.grad = None
        loss(x, y).backward()

    return step


def keops_available() -> bool:
    return importlib.util.find_spec("pykeops") is not None


def bench(
    points: list[int],
    dims: list[int],
    backends: list[str],
    repeats: int,
    device: str,
    online_max_s: float,
    max_tensorized: int,
    online_dims: list[int] | None = None,
    emit_fn: Callable[..., Any] = emit,
    big_n: int = 16384,
) -> None:
    cuda = device.startswith("cuda")
    for backend in backends:
        for d in dims if backend == "tensorized" or online_dims is None else online_dims:
            online_slow = False
            for n in points:
                fields = {"device": device, "backend": backend, "points": n, "dims": d}
                if backend == "online" and not keops_available():
                    emit_fn("sinkhorn", **fields, skipped="pykeops not installed")
                    continue
                if backend == "online" and online_slow:
                    emit_fn("sinkhorn", **fields, skipped=f"smaller N took over {online_max_s} s")
                    continue
                if backend == "tensorized" and n > max_tensorized:
                    emit_fn("sinkhorn", **fields, skipped=f"N > {max_tensorized} (O(N^2) memory)")
                    continue
                try:
                    step = sinkhorn_fn(n, d, backend, device)
                    with PeakMemory(cuda) as memory:
                        start = time.perf_counter()
                        step()  # compiles the KeOps formulas on first use
                        if cuda:
                            torch.cuda.synchronize()
                        warmup_s = time.perf_counter() - start
                    reps = repeats if n <= big_n else 1
                    median, times = median_time(step, repeats=reps, warmup=0, sync=cuda)
                except Exception as error:  # KeOps without a compiler / CUDA: report, go on
                    emit_fn("sinkhorn", **fields, error=f"{type(error).__name__}: {error}"[:300])
                    continue
                if backend == "online" and median > online_max_s:
                    online_slow = True
                emit_fn(
                    "sinkhorn",
                    **fields,
                    fwd_bwd_s=round(median, 5),
                    first_call_s=round(warmup_s, 3),
                    peak_mem_mb=round(memory.peak_mb, 1),
                    times_s=[round(t, 5) for t in times],
                )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="+", type=int, default=[256, 768, 2048])
    parser.add_argument("--dims", nargs="+", type=int, default=[64, 384])
    parser.add_argument("--backends", nargs="+", default=["tensorized", "online"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--online-dims", nargs="+", type=int, default=[384])
    parser.add_argument("--online-max-s", type=float, default=2.0)
    parser.add_argument("--max-tensorized", type=int, default=8192)
    parser.add_argument("--threads", default="auto")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    bench(
        args.points,
        args.dims,
        args.backends,
        args.repeats,
        args.device,
        args.online_max_s,
        args.max_tensorized,
        args.online_dims,
    )


if __name__ == "__main__":
    main()
