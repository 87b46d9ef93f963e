"""Training data-loader throughput of ``RestorationDataModule`` (bundled default).

Iterates the training loader (``num_workers`` workers, patch ``--patch``) after one warm-up
batch and reports samples/s. The bundled default synthesises every degradation on the fly.

    python benchmarks/bench_data.py --workers 2 --patch 128 --batches 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, set_threads  # noqa: E402

from baryir.data import RestorationDataModule  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--threads", default="auto")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    data = RestorationDataModule(
        patch_size=args.patch,
        batch_size=args.batch,
        num_workers=args.workers,
        bundled_train_size=max(64, args.batch * (args.batches + 1)),
        val_sets=[],
    )
    data.setup("fit")
    loader = data.train_dataloader()
    iterator = iter(loader)
    start = time.perf_counter()
    next(iterator)
    first = time.perf_counter() - start
    samples, start = 0, time.perf_counter()
    for _ in range(args.batches):
        try:
            batch = next(iterator)
        except StopIteration:
            break
        samples += batch["input"].shape[0]
    elapsed = time.perf_counter() - start
    emit(
        "data_loader",
        workers=args.workers,
        patch=args.patch,
        batch=args.batch,
        batches=args.batches,
        samples_per_s=round(samples / elapsed, 2),
        first_batch_s=round(first, 3),
        sources=data.source_names,
    )


if __name__ == "__main__":
    main()
