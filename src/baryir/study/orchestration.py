"""Run a study: for every seed and arm, train with ``baryir fit``, then score every row.

The steps, each in its own module: the runs' ``baryir fit`` configs and their training
(:mod:`baryir.study.training`: a ``fit`` callable, or ``python -m baryir fit`` processes side by
side), the scores of each run on the study's rows (:mod:`baryir.study.scoring`), the mechanism
on the in-distribution rows (:mod:`baryir.study.mechanism`), with ``budget_curve`` the reference
arm's first run scored along its training (:mod:`baryir.study.budget`), the alignment's gradient
share (:mod:`baryir.study.dose`), then the statistics (:mod:`baryir.study.stats`) and the result
files (:mod:`baryir.study.results`), from which ``studies/write_report.py`` writes the report.

A run whose ``run.json`` matches its fit config is reused, and so are its evaluation
(``scores-<digest>.json``), mechanism (``mechanism-<digest>.json``) and curve
(``curve-<digest>-step<N>.json``), unless ``fresh`` (:mod:`baryir.study.cache`): an interrupted
study picks up where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from baryir.provenance import describe_revision, machine_description, timestamp
from baryir.study.budget import CurvePoint
from baryir.study.cache import config_digest
from baryir.study.config import StudyConfig
from baryir.study.dose import ShareTrace, read_shares
from baryir.study.mechanism import (
    MechanismSummary,
    measure_run,
    mechanism_datasets,
    summarize_mechanism,
)
from baryir.study.meta import StudyMeta, describe_setup, identical_batches
from baryir.study.results import write_results
from baryir.study.scoring import build_rows, data_root, eval_device, evaluate_curve, evaluate_run
from baryir.study.stats import ImageScore, summarize
from baryir.study.training import (
    FitCommand,
    RunTiming,
    fit_config,
    train_folders,
    train_run,
    train_side_by_side,
)

__all__ = ["run_study"]


def run_study(
    config: StudyConfig, fit_command: FitCommand, command: str, fresh: bool = False
) -> dict[str, Path]:
    """Train and evaluate a study and write its results (:mod:`baryir.study.results`); returns
    the written files by kind.

    Args:
        config: the study.
        fit_command: trains one run from its ``baryir fit`` config file.
        command: the command line that started the study, for the report.
        fresh: retrain and re-evaluate every run (else finished ones are reused).
    """
    started, clock = timestamp(), time.perf_counter()
    machine = machine_description()
    root = data_root(config)
    folders = train_folders(config, root)
    rows = build_rows(config, root)
    work_dir = Path(config.work_dir)
    labels = [dataset.label for _, dataset in rows]  # cached scores name rows by label
    eval_digest = config_digest({**asdict(config.evaluation), "labels": labels})
    mechanism_sets = mechanism_datasets(rows)  # fewer than 2 rows: nothing to compare
    mechanism_digest = config_digest(
        {"evaluation": asdict(config.evaluation), "blur": config.mechanism_blur, "labels": labels}
    )
    scores: list[ImageScore] = []
    ssim: dict[tuple[str, int, str], float] = {}
    timings: list[RunTiming] = []
    mechanism = MechanismSummary()
    curve: list[CurvePoint] = []
    traces: list[ShareTrace] = []
    runs = [(seed, arm) for seed in config.seeds for arm in config.arms]
    trained: set[Path] = set()

    def curve_every(seed: int, arm: str) -> int | None:
        """Checkpoint interval of the budget curve: the reference arm's first seed only."""
        first_reference = arm == config.reference and seed == config.seeds[0]
        return config.budget_curve.every if config.budget_curve and first_reference else None

    def fit_of(seed: int, arm: str) -> dict[str, Any]:
        run_dir = work_dir / f"{arm}-seed{seed}"
        return fit_config(config, arm, seed, run_dir, folders, curve_every(seed, arm))

    for index, (seed, arm) in enumerate(runs, start=1):
        run_dir = work_dir / f"{arm}-seed{seed}"
        every = curve_every(seed, arm)
        fit = fit_of(seed, arm)
        if config.side_by_side and arm == config.arms[0]:
            trained |= train_side_by_side(
                [(fit_of(seed, other), work_dir / f"{other}-seed{seed}") for other in config.arms],
                fresh,
            )
        side_by_side = run_dir in trained
        train_s, cpu_s, reused = train_run(fit, run_dir, fresh and not side_by_side, fit_command)
        reused = reused and not side_by_side
        fit_digest = config_digest(fit)
        cache = run_dir / f"scores-{eval_digest}-{fit_digest}.json"
        mechanism_cache = run_dir / f"mechanism-{mechanism_digest}-{fit_digest}.json"
        if fresh:
            cache.unlink(missing_ok=True)
            mechanism_cache.unlink(missing_ok=True)
        checkpoint = run_dir / "checkpoints" / "last.ckpt"
        run_scores, run_ssim, eval_s = evaluate_run(config, checkpoint, rows, arm, seed, cache)
        scores += run_scores
        ssim |= run_ssim
        trace = read_shares(run_dir, arm, seed)
        if trace is not None:
            traces.append(trace)
        timings.append(RunTiming(arm, seed, config.steps, train_s, eval_s, cpu_s, reused))
        measured = None
        if len(mechanism_sets) >= 2:
            measured = measure_run(
                checkpoint,
                mechanism_sets,
                arm,
                seed,
                config.mechanism_blur,
                eval_device(config),
                mechanism_cache,
            )
        said = "not measured"
        if measured is not None:
            mechanism.runs.append(measured[0])
            if seed == config.seeds[0]:
                mechanism.embeddings[arm] = measured[1]
            said = f"b/r divergence {measured[0].b_divergence:.3f}/{measured[0].r_divergence:.3f}"
        if every is not None:
            prefix = f"curve-{eval_digest}-{fit_digest}"
            curve = evaluate_curve(config, run_dir, rows, arm, seed, run_scores, prefix, fresh)
            said += f"; budget curve at {len({p.step for p in curve})} steps"
        elapsed = time.perf_counter() - clock
        left = elapsed / index * (len(runs) - index)
        print(
            f"[{index}/{len(runs)}] {arm} seed {seed}: trained {config.steps} steps in "
            f"{train_s:.0f} s{' (reused)' if reused else ''}, evaluated {len(rows)} rows in "
            f"{eval_s:.0f} s; mechanism: {said}; about {left / 60:.0f} min left",
            flush=True,
        )
    arm_rows, differences = summarize(
        scores,
        ssim,
        [(group, dataset.label) for group, dataset in rows],
        config.arms,
        config.reference,
        config.seeds,
        config.level,
        config.bootstrap,
    )
    mechanism.rows = summarize_mechanism(
        mechanism.runs, config.arms, config.reference, config.seeds, config.level, config.bootstrap
    )
    budget, train, evaluation = describe_setup(config, root)
    meta = StudyMeta(
        command=command,
        revision=describe_revision(),
        machine=machine,
        started=started,
        finished=timestamp(),
        duration_s=time.perf_counter() - clock,
        identical_batches=identical_batches(config, work_dir),
        budget=budget,
        train_data=train,
        evaluation=evaluation,
        mechanism_rows=tuple(dataset.label for dataset in mechanism_sets) if mechanism.runs else (),
    )
    return write_results(
        config, arm_rows, differences, scores, timings, meta, mechanism, curve, traces
    )
