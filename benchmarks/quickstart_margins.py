"""The gains the quickstart's model reaches on a study's in-distribution and do-no-harm rows.

Scores a checkpoint (default: the one ``make demo`` writes) on the in-distribution and
do-no-harm rows of a study file, with the study's own rows (:func:`baryir.study.scoring.build_rows`:
same images, crops and degradation seeds), and prints per row the restored PSNR, the input's
PSNR and the gain. These gains, rounded down to 0.1 dB, are the budget targets
(``budget_curve.min_gain``) of ``configs/study/generalization-cpu.yaml``: the study's reference
arm must restore at least as well as the quickstart does.

Example (about 1 minute on 2 cores, after ``make demo``)::

    python benchmarks/quickstart_margins.py --study configs/study/generalization-cpu.yaml
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from baryir.evaluation.runner import evaluate
from baryir.study.config import load_study_config
from baryir.study.scoring import build_rows, data_root

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--study", type=Path, default=ROOT / "configs/study/generalization-cpu.yaml"
    )
    parser.add_argument("--ckpt", type=Path, default=ROOT / "runs/quickstart/checkpoints/last.ckpt")
    args = parser.parse_args(argv)
    if not args.ckpt.is_file():
        parser.error(f"no checkpoint at {args.ckpt} (run `make demo` first)")
    study = load_study_config(args.study)
    rows = [
        dataset for group, dataset in build_rows(study, data_root(study)) if group in ("id", "harm")
    ]
    results = evaluate(args.ckpt, rows, device="cpu")
    print(f"{args.ckpt} on the rows of {args.study}:")
    print("| row | input PSNR | restored PSNR | gain |\n|---|---:|---:|---:|")
    for label, row in results.items():
        gain = row["psnr"] - row["input_psnr"]
        shown = f"{gain:+.2f}" if math.isfinite(gain) else "n/a"
        print(f"| `{label}` | {row['input_psnr']:.2f} | {row['psnr']:.2f} | {shown} |")


if __name__ == "__main__":
    main()
