"""Inference latency and peak memory of ``baryir.inference.restore`` per preset and image size.

Untiled (one full-image pass) and tiled (``--tile`` pixels, 32 overlap). Random weights (the
speed does not depend on them). One JSON line per (preset, size, tiling, precision): the full
``baryir`` runs in fp32 and in bf16 autocast side by side (``bf16_native`` says whether the CPU
has AMX / AVX-512 BF16; without it bf16 falls back to fp32).

    python benchmarks/bench_inference.py                                  # the `make bench` set
    python benchmarks/bench_inference.py --models baryir --sizes 256 512 --repeats 1
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PeakMemory,
    emit,
    median_time,
    network_gflop,
    rate_fields,
    set_threads,
)

from baryir.inference import native_bf16, restore  # noqa: E402
from baryir.models import create_model  # noqa: E402

TINY = ["baryir-tiny", "restormer-tiny", "promptir-tiny", "baryir-promptir-tiny"]


def bench(
    model_name: str,
    sizes: list[int],
    tile: int,
    repeats: int,
    big_repeats: int,
    device: str = "cpu",
    precisions: tuple[str, ...] = ("fp32",),
) -> None:
    torch.manual_seed(0)
    model = create_model(model_name).to(device).eval()
    cuda = device.startswith("cuda")
    for size in sizes:
        image = torch.rand(3, size, size, generator=torch.Generator().manual_seed(size))
        image = image.to(device)
        reps = repeats if size <= 256 else big_repeats
        for tiled, precision in ((t, p) for t in (False, True) for p in precisions):
            if tiled and tile >= size:
                continue
            run = functools.partial(
                restore, model, image, tile=tile if tiled else None, precision=precision
            )
            with PeakMemory(cuda) as memory:
                run()  # warm-up, also the peak-memory measurement
            median, times = median_time(run, repeats=reps, warmup=0, sync=cuda)
            # the untiled image's work (tiles add their overlaps): what the image costs
            gflop = network_gflop(model, (1, 3, size, size))
            computed = "bf16" if precision == "bf16" and native_bf16(device) else "fp32"
            emit(
                "inference",
                device=device,
                model=model_name,
                size=size,
                tile=tile if tiled else None,
                precision=precision,
                bf16_native=native_bf16(device),
                latency_s=round(median, 4),
                megapixels_per_s=round(size * size / 1e6 / median, 4),
                peak_mem_mb=round(memory.peak_mb, 1),
                times_s=[round(t, 4) for t in times],
                **rate_fields(gflop, median, computed),
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=TINY)
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512, 1024])
    parser.add_argument("--full-sizes", nargs="*", type=int, default=[256, 512])
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs at sizes <= 256")
    parser.add_argument("--big-repeats", type=int, default=1, help="timed runs above 256")
    parser.add_argument("--threads", default="auto")
    parser.add_argument(
        "--full-precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"]
    )
    args = parser.parse_args(argv)
    set_threads(args.threads)
    for name in args.models:
        bench(name, args.sizes, args.tile, args.repeats, args.big_repeats)
    if args.full_sizes:
        bench("baryir", args.full_sizes, args.tile, 1, 1, precisions=tuple(args.full_precisions))


if __name__ == "__main__":
    main()
