"""`make demo` over several seeds, with the do-no-harm suite on each checkpoint.

Runs the two commands `make demo` runs (`baryir fit` then `baryir test` on
``configs/quickstart.yaml``), once per seed, each in its own scratch folder, then scores each
checkpoint with the ``do-no-harm`` suite on the shared test photos (skipped, with the
reason, when they are absent). It copies what the commands wrote into ``--output``:

- ``seed<N>/results.csv`` (`baryir test`'s table), ``seed<N>/do-no-harm.csv`` and
  ``seed<N>/do-no-harm-per-image.csv`` (`baryir suite`'s tables);
- ``provenance.json``: the machine, the commit, the threads and each seed's wall time.

The README's tables are rendered from these files by ``docs/tables.py``:

    python benchmarks/demo_seeds.py --output docs/results/demo     # about 8 min a seed, 2 cores
    python docs/tables.py                                          # rewrite the marked tables

``--steps`` shortens every run (a smoke test: the numbers mean nothing then).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from baryir.io.atomic import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "configs" / "quickstart.yaml"


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's processor string."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def commit() -> str:
    """The checked-out commit, with ``+changes`` when the tree differs from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head}+changes" if dirty else head


def baryir(args: list[str], cwd: Path) -> None:
    """Run ``python -m baryir ARGS`` in ``cwd``; raise with its last lines when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "baryir", *args], cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise RuntimeError(f"baryir {' '.join(args)} failed ({done.returncode}):\n{tail}")


def run_seed(seed: int, scratch: Path, out: Path, steps: int | None, data: Path | None) -> float:
    """Train, test and score one seed in ``scratch``; copy the tables to ``out``; wall seconds."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shorten = [] if steps is None else [f"--trainer.max_steps={steps}", "--model.warmup_steps=1"]
    if steps is not None:
        shorten.append(f"--trainer.val_check_interval={steps}")
    start = time.perf_counter()
    baryir(
        ["fit", "--config", str(QUICKSTART), "--fresh", "true", f"--seed_everything={seed}"]
        + shorten,
        scratch,
    )
    ckpt = scratch / "runs/quickstart/checkpoints/last.ckpt"
    baryir(["test", "--config", str(QUICKSTART), "--ckpt_path", str(ckpt)], scratch)
    seconds = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(scratch / "runs/quickstart/report/results.csv", out / "results.csv")
    if data is not None:
        suite_out = scratch / "do-no-harm"
        baryir(
            ["suite", "--config", "do-no-harm", "--ckpt", str(ckpt), "--root", str(data)]
            + ["--output", str(suite_out), "--no-real"],
            scratch,
        )
        shutil.copyfile(suite_out / "results.csv", out / "do-no-harm.csv")
        shutil.copyfile(suite_out / "per_image.csv", out / "do-no-harm-per-image.csv")
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="folder for the tables")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None, help="shorter runs (smoke test)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="seeds run side by side (set OMP_NUM_THREADS too)"
    )
    parser.add_argument("--scratch", type=Path, default=REPO / "runs" / "demo-seeds")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("BARYIR_DATA", REPO.parent / "shared" / "data")),
        help="the shared test photos (CBSD68, Kodak24, McMaster) for the do-no-harm suite",
    )
    args = parser.parse_args(argv)
    data = args.data if (args.data / "CBSD68").is_dir() else None
    if data is None:
        print(f"do-no-harm suite skipped: no test photos under {args.data}", file=sys.stderr)
    provenance: dict[str, object] = {  # taken when the runs start: the code they run
        "machine": cpu_name(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d"),
        "steps": args.steps,
        "jobs": args.jobs,
    }

    def one(seed: int) -> float:
        out = args.output / f"seed{seed}"
        seconds = run_seed(seed, args.scratch / f"seed{seed}", out, args.steps, data)
        print(f"seed {seed}: fit + test took {seconds:.0f} s; tables in {out}", flush=True)
        return seconds

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        took = dict(zip(args.seeds, pool.map(one, args.seeds), strict=True))
    provenance["fit_test_seconds"] = {str(seed): round(took[seed], 1) for seed in args.seeds}
    text = json.dumps(provenance, indent=2) + "\n"
    atomic_write_text(args.output / "provenance.json", text)
    print(text, end="")


if __name__ == "__main__":
    main()
