"""Run every CPU benchmark (``make bench``) and collect the JSON lines.

Every profile first measures the machine's matrix rates (``bench_machine.py``: a 2048 x 2048
product in fp32 and bf16); the scripts after it print each inference and training-step figure
also as GFLOP/s (torch's FLOP counter) and as a share of the rate in its precision.

Profiles (the default took 527 s on the idle 2-core CPU of docs/performance.md, before the
full ``baryir``'s bf16 and 512 inference rows were added):

- default: layers old/new at 256 and 512 (the full ``baryir``'s 512 x 512 inference, before and
  after, in one run) plus the per-optimisation ablation at 128; training steps of the tiny
  presets (batch 3, patch 64, every WB solver for BaryIR) and of the full ``baryir`` at batch 1,
  patch 64; inference of the tiny presets at 256/512/1024, untiled and tiled, and of the full
  ``baryir`` at 256 and 512 in fp32 and bf16 side by side; the Sinkhorn term; the data loader;
  opening a release-format file (337 MB) with ``baryir convert`` and ``restore``; the training
  step by part against the bare network loop (quickstart and the full ``baryir``,
  ``bench_step.py``).
- ``--quick``: smaller sizes, for a check that everything runs (about 3 minutes).
- ``--paper``: adds the full ``baryir`` at 512 untiled and tiled through ``restore`` and the
  training step at the paper's configuration (full ``baryir``, batch 3, patch 128, every
  solver): the WB overhead target (slow: about 25 s a step on 2 cores), and ``bench_step.py``
  at the paper's batch and patch.

Results go to stdout and to ``benchmarks/results/<date>-cpu.jsonl`` (``--out`` to change),
each record with the run's id (``run``: one for the whole invocation) and the commit. A script
and its arguments after the options run instead of the profile, into the same file::

    python benchmarks/run_all.py --out benchmarks/results/x.jsonl bench_train.py --reference --quick
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import RATES_ENV, RUN_ENV, run_id

HERE = Path(__file__).resolve().parent


def plan(quick: bool, paper: bool) -> list[list[str]]:
    return [["bench_machine.py"], *_scripts(quick, paper)]


def _scripts(quick: bool, paper: bool) -> list[list[str]]:
    if quick:
        runs = [
            ["bench_layers.py", "--sizes", "128", "--repeats", "1", "--ablation-size", "0"],
            ["bench_train.py", "--models", "baryir-tiny", "restormer-tiny", "--repeats", "2"],
            ["bench_inference.py", "--sizes", "128", "256", "--tile", "128", "--full-sizes"],
            ["bench_sinkhorn.py", "--points", "256", "768", "--dims", "384"],
            ["bench_data.py", "--batches", "10"],
            ["bench_step.py", "--quick", "--steps", "5"],
        ]
    else:
        runs = [
            ["bench_layers.py", "--sizes", "256", "512", "--repeats", "2"],
            [
                "bench_train.py",
                "--models",
                "baryir-tiny",
                "restormer-tiny",
                "promptir-tiny",
                "baryir-promptir-tiny",
                "--full",
            ],
            ["bench_inference.py", "--full-sizes", "256", "512"],
            ["bench_sinkhorn.py", "--online-max-s", "1.0"],
            ["bench_data.py"],
            ["bench_released_weights.py"],
            ["bench_step.py", "--quick"],
        ]
    if paper:
        runs.append(["bench_inference.py", "--models", "baryir", "--sizes", "512", "--full-sizes"])
        runs.append(
            ["bench_train.py", "--models", "baryir", "--batch", "3", "--patch", "128"]
            + ["--warmup", "1", "--repeats", "1"]
        )
        runs.append(["bench_step.py", "--setups", "paper"])
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--paper", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "script", nargs=argparse.REMAINDER, help="one script and its arguments instead of the plan"
    )
    args = parser.parse_args(argv)
    out = args.out or HERE / "results" / f"{datetime.date.today().isoformat()}-cpu.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = 0
    start = time.perf_counter()
    env = {**os.environ, RUN_ENV: run_id()}
    runs = [args.script] if args.script else plan(args.quick, args.paper)
    with out.open("a") as sink:
        for script, *extra in runs:
            began = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, str(HERE / script), *extra],
                capture_output=True,
                text=True,
                env=env,
            )
            lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            for line in lines:
                print(line, flush=True)
                sink.write(line + "\n")
                record = json.loads(line)
                if record.get("bench") == "matmul_rates":
                    env[RATES_ENV] = json.dumps({k: record[k] for k in ("fp32", "bf16")})
            sink.flush()
            status = "ok" if proc.returncode == 0 else f"failed ({proc.returncode})"
            print(f"# {script} {status} in {time.perf_counter() - began:.0f} s", flush=True)
            if proc.returncode:
                failed += 1
                print(proc.stderr[-3000:], file=sys.stderr)
    print(f"# all benchmarks: {time.perf_counter() - start:.0f} s, results in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
