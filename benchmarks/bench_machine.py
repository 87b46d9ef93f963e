"""The machine's matrix rates: a 2048 x 2048 product in fp32 and bf16, GFLOP/s at the benchmark
threads (``make bench`` measures them first; every figure's share of the machine is relative
to them).

    python benchmarks/bench_machine.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MATMUL_SIDE, emit, matmul_rates, set_threads  # noqa: E402

from baryir.inference import native_bf16  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    rates = matmul_rates(args.repeats)
    emit("matmul_rates", side=MATMUL_SIDE, bf16_native=native_bf16("cpu"), **rates)


if __name__ == "__main__":
    main()
