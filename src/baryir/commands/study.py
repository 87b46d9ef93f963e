"""``baryir study --config configs/study/generalization-cpu.yaml``: an equal-budget comparison.

For every seed and arm of the study (:mod:`baryir.study`), trains the network through ``baryir
fit`` (:func:`baryir.lightning_cli.run_trainer`, in this process, on the one error path of
``baryir fit``) with the study's shared fit config, then scores
the checkpoint on the in-distribution, out-of-distribution and do-no-harm rows, keeping every
image's PSNR, and measures the mechanism (b and r of the in-distribution inputs). With
``budget_curve`` the reference arm's first run is also scored every ``budget_curve.every`` steps.
Writes the results into ``--output`` (default: the study's ``output``; the files:
:mod:`baryir.study.results`): ``<name>.csv`` (per arm and row), ``<name>-differences.csv``
(paired differences to the reference arm with bootstrap intervals), ``<name>-per-image.csv``,
``<name>-timing.csv``, ``<name>-meta.json`` (command, git revision, machine, timestamps, setup),
and with the mechanism, the budget curve and the dose their CSV and JSON files.
``python studies/write_report.py --config STUDY.yaml`` then writes the report from them
(``<name>.md``, ``README.md``, the pictures): the report writing is not in the package.

Runs live in ``--work-dir/<arm>-seed<seed>/``; finished runs (and their scores, mechanism and
curve) are reused unless ``--fresh``.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

from jsonargparse.typing import PositiveInt


def run(
    *,
    config: Path,
    output: Path | None = None,
    work_dir: Path | None = None,
    steps: PositiveInt | None = None,
    seeds: list[int] | None = None,
    arms: list[str] | None = None,
    max_images: PositiveInt | None = None,
    fresh: bool = False,
) -> int:
    """Train and compare the arms of a study at equal budget, and write its results.

    Args:
        config: study YAML, e.g. configs/study/generalization-cpu.yaml.
        output: folder for the results (default: the study's output).
        work_dir: folder for the runs (default: the study's work_dir).
        steps: training steps of every run.
        seeds: seeds to run.
        arms: arms to run, among baryir.study.config.ARMS.
        max_images: images scored per row.
        fresh: retrain and re-evaluate every run.
    """
    from baryir.errors import run_guarded
    from baryir.lightning_cli import run_trainer
    from baryir.study.config import load_study_config
    from baryir.study.orchestration import run_study

    study = load_study_config(config)
    study = study.with_overrides(
        output=None if output is None else str(output),
        work_dir=None if work_dir is None else str(work_dir),
        steps=None if steps is None else int(steps),
        seeds=tuple(seeds) if seeds else None,
        arms=tuple(arms) if arms else None,
        evaluation=replace(study.evaluation, max_images=int(max_images)) if max_images else None,
    )
    given = {
        "--config": config,
        "--output": output,
        "--work-dir": work_dir,
        "--steps": steps,
        "--seeds": seeds,
        "--arms": arms,
        "--max-images": max_images,
    }
    argv = [
        str(word)
        for flag, value in given.items()
        if value is not None
        for word in (flag, *(value if isinstance(value, list) else [value]))
    ]
    command = shlex.join(["baryir", "study", *argv, *(["--fresh"] if fresh else [])])

    def fit(path: Path) -> None:
        run_guarded("baryir fit", lambda: run_trainer(["fit", "--config", str(path)]))

    files = run_study(study, fit, command, fresh)
    print(f"wrote {', '.join(str(path) for path in files.values())}")
    report = ["python", "studies/write_report.py", "--config", str(config)]
    report += [] if output is None else ["--results", str(output)]
    print(f"write the report with: {shlex.join(report)}")
    return 0
