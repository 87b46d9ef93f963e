"""The layer optimisations: full ``baryir`` inference, optimised vs reference layers, one run.

Both versions share one model and its weights (``reference_layers`` swaps the forwards); the
runs alternate (new, old, new, old, ...) so both see the same machine load. Also checks that
the outputs agree (max abs difference) and times each optimisation alone (every layer
optimised except one, which keeps its reference forward) at the smallest size.

    python benchmarks/bench_layers.py --sizes 256 512
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakMemory, emit, set_threads  # noqa: E402
from reference_layers import REFERENCE, reference_layers  # noqa: E402

from baryir.inference import restore  # noqa: E402
from baryir.models import create_model  # noqa: E402


def timed(model: torch.nn.Module, image: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    with PeakMemory() as memory:
        start = time.perf_counter()
        out = restore(model, image)
        elapsed = time.perf_counter() - start
    return elapsed, memory.peak_mb, out


def compare(model: torch.nn.Module, size: int, repeats: int) -> None:
    image = torch.rand(3, size, size, generator=torch.Generator().manual_seed(size))
    with torch.inference_mode():
        new_out = model(image[None])
        with reference_layers():
            old_out = model(image[None])
    diff = max((a - b).abs().max().item() for a, b in zip(new_out, old_out, strict=True))
    new, old, new_mem, old_mem = [], [], 0.0, 0.0
    for _ in range(repeats):
        t, mem, _ = timed(model, image)
        new.append(t)
        new_mem = max(new_mem, mem)
        with reference_layers():
            t, mem, _ = timed(model, image)
        old.append(t)
        old_mem = max(old_mem, mem)
    emit(
        "layers_old_vs_new",
        model="baryir",
        size=size,
        old_s=round(statistics.median(old), 3),
        new_s=round(statistics.median(new), 3),
        speedup=round(statistics.median(old) / statistics.median(new), 3),
        old_peak_mem_mb=round(old_mem, 1),
        new_peak_mem_mb=round(new_mem, 1),
        max_abs_diff=diff,
        old_times_s=[round(t, 3) for t in old],
        new_times_s=[round(t, 3) for t in new],
    )


def ablation(model: torch.nn.Module, size: int, repeats: int) -> None:
    """Time with every layer optimised except one class (which runs its reference forward)."""
    image = torch.rand(3, size, size, generator=torch.Generator().manual_seed(size))
    variants: dict[str, tuple[type, ...]] = {"all optimised": ()}
    variants |= {f"reference {cls.__name__}": (cls,) for cls in REFERENCE}
    variants["all reference"] = tuple(REFERENCE)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, classes in variants.items():
            context = reference_layers(classes) if classes else contextlib.nullcontext()
            with context:
                times[name].append(timed(model, image)[0])
    base = statistics.median(times["all optimised"])
    for name, values in times.items():
        median = statistics.median(values)
        emit(
            "layers_ablation",
            model="baryir",
            size=size,
            variant=name,
            latency_s=round(median, 3),
            slowdown_vs_optimised=round(median / base, 3),
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--repeats", type=int, default=3, help="pairs at sizes <= 256")
    parser.add_argument("--big-repeats", type=int, default=1, help="pairs above 256")
    parser.add_argument("--ablation-size", type=int, default=128)
    parser.add_argument("--threads", default="auto")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    torch.manual_seed(0)
    model = create_model("baryir").eval()
    with torch.inference_mode():
        model(torch.rand(1, 3, 64, 64))  # warm-up (oneDNN primitive creation)
    if args.ablation_size:
        ablation(model, args.ablation_size, args.repeats)
    for size in args.sizes:
        compare(model, size, args.repeats if size <= 256 else args.big_repeats)


if __name__ == "__main__":
    main()
