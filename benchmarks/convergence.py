"""Convergence of the quickstart: PSNR of every validation row against time and steps.

Trains ``configs/quickstart.yaml`` once per recipe and seed for a fixed wall-clock budget
(``trainer.max_time``), validating every ``--val-every`` steps, and writes one JSON line per
validation (recipe, seed, step, seconds since the fit started, and per row the restored PSNR,
the input's PSNR and the share of images made worse; the commit, the run's id and the machine)
plus a plot of the gain over the input.

Recipes:

- ``new``: the quickstart as committed (the small-budget recipe of ``configs/recipe/``: identity
  start, EMA, warm-up + cosine, a clean source, flat-contrast patches, sigma 50 twice);
- ``old``: the same photos, model, batch and budget with the previous training settings (plain
  init, no EMA, constant learning rate, the five degraded tasks only).

Example (2 recipes x 3 seeds, each run 350-400 s on a 2-core Xeon without AMX; the budget only
caps a run, which stops at the quickstart's 700 steps)::

    python benchmarks/convergence.py --budget 900 --seeds 0 1 2 \\
        --out docs/results/convergence.jsonl --plot docs/convergence.png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import RUN_ENV, commit, machine, run_id
from lightning.pytorch import Callback, LightningModule, Trainer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RECIPES: dict[str, list[str]] = {
    "new": [],
    "old": [
        "--model.identity_init=false",
        "--model.ema_decay=0",
        "--model.lr_schedule=step",
        "--model.warmup_steps=0",
        "--data.tasks=[denoise_15, denoise_25, denoise_50, derain, dehaze]",
        "--data.mix=null",
        "--data.flat_contrast=0",
    ],
}


class ValidationClock(Callback):
    """Append ``{recipe, seed, step, time_s, rows, commit, run, machine}`` to ``out`` (JSON
    lines) after every validation.

    Args:
        out: the JSON-lines file.
        recipe: the recipe's name, written in every line.
        seed: the run's ``seed_everything``, written in every line.
    """

    def __init__(self, out: str, recipe: str, seed: int = 0) -> None:
        self.out = Path(out)
        self.recipe = recipe
        self.seed = seed
        self.start = time.perf_counter()

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.start = time.perf_counter()

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        rows: dict[str, dict[str, float]] = {}
        for key, value in trainer.callback_metrics.items():
            parts = key.split("/")
            if len(parts) == 3 and parts[0] == "val":
                rows.setdefault(parts[1], {})[parts[2]] = float(value)
        record = {
            "recipe": self.recipe,
            "seed": self.seed,
            "step": trainer.global_step,
            "time_s": round(time.perf_counter() - self.start, 2),
            "rows": rows,
            "commit": commit(),
            "run": run_id(),
            "machine": machine(),
        }
        with self.out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def run(
    recipe: str, seed: int, budget: int, val_every: int, out: Path, work: Path, threads: int
) -> None:
    """Train one recipe from one seed in a child process (``baryir fit``) and record its
    validations."""
    minutes, seconds = divmod(budget, 60)
    folder = work / f"{recipe}-seed{seed}"
    args = [
        sys.executable,
        "-m",
        "baryir",
        "fit",
        "--config",
        str(ROOT / "configs" / "quickstart.yaml"),
        *RECIPES[recipe],
        f"--seed_everything={seed}",
        f"--trainer.max_time=00:00:{minutes:02d}:{seconds:02d}",
        f"--trainer.val_check_interval={val_every}",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={folder}",
        f"--trainer.logger.init_args.save_dir={folder}",
        f"--trainer.callbacks.dirpath={folder / 'checkpoints'}",
        f"--report.dir={folder / 'report'}",
        "--trainer.callbacks+=convergence.ValidationClock",
        f"--trainer.callbacks.out={out}",
        f"--trainer.callbacks.recipe={recipe}",
        f"--trainer.callbacks.seed={seed}",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": str(threads),
        RUN_ENV: run_id(),
    }
    subprocess.run(args, check=True, cwd=ROOT, env=env)


def gain(row: dict[str, float]) -> float:
    """Gain over the input in dB; on a clean row (input PSNR inf) the restored PSNR itself."""
    value = row["psnr"] - row["input_psnr"] if math.isfinite(row["input_psnr"]) else row["psnr"]
    return round(value, 2)


def plot(records: list[dict[str, Any]], path: Path) -> None:
    """Gain over the input (dB) per validation row against time, one line per recipe and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({label for record in records for label in record["rows"]})
    cols = min(4, len(labels))
    rows = math.ceil(len(labels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for axis, label in zip(axes.flat, labels, strict=False):
        for recipe, seed in sorted({(r["recipe"], r.get("seed", 0)) for r in records}):
            points = [
                r
                for r in records
                if (r["recipe"], r.get("seed", 0)) == (recipe, seed) and label in r["rows"]
            ]
            values = [r["rows"][label] for r in points]
            clean = not math.isfinite(values[0].get("input_psnr", 0.0)) if values else False
            ys = [gain(v) for v in values]
            axis.plot([r["time_s"] for r in points], ys, marker=".", label=f"{recipe} {seed}")
        axis.set_title(label.removeprefix("bundled-val "), fontsize=9)
        axis.set_xlabel("seconds", fontsize=8)
        axis.set_ylabel("PSNR (dB)" if clean else "gain over input (dB)", fontsize=8)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(labels) :]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".png", delete=False) as tmp:
        fig.savefig(tmp.name, dpi=90)
    os.replace(tmp.name, path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=300, help="seconds of training per recipe")
    parser.add_argument("--val-every", type=int, default=100, help="steps between validations")
    parser.add_argument("--recipes", nargs="+", default=["old", "new"], choices=sorted(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="seed_everything")
    parser.add_argument("--out", type=Path, default=Path("convergence.jsonl"))
    parser.add_argument("--plot", type=Path, default=None, help="PNG of the curves")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=None, help="keep the runs here")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="baryir-convergence-") as temporary:
        work = (args.work or Path(temporary)).resolve()
        for recipe in args.recipes:
            for seed in args.seeds:
                run(recipe, seed, args.budget, args.val_every, args.out, work, args.threads)
    records = [json.loads(line) for line in args.out.read_text().splitlines()]
    for record in records:
        gains = {
            label.removeprefix("bundled-val "): gain(row) for label, row in record["rows"].items()
        }
        print(record["recipe"], record["seed"], record["step"], record["time_s"], gains, flush=True)
    if args.plot:
        plot(records, args.plot)


if __name__ == "__main__":
    main()
