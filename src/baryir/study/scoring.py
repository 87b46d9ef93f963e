"""A study's scoring: its rows, and every image's PSNR of a run's checkpoint on them.

The rows are test sets and suites (:func:`baryir.data.suites.build_rows`), labelled as every
table labels them (``"CBSD68 noise:25"``, made unique; :func:`build_rows`); a
checkpoint is scored through :func:`baryir.evaluation.runner.evaluate` (``baryir.evaluate``),
keeping every image's PSNR for :mod:`baryir.study.stats` (:func:`evaluate_run`, cached by
:mod:`baryir.study.cache`), and along the budget curve (:func:`evaluate_curve`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from baryir.data.datasets.testsets import default_data_root
from baryir.data.suites import build_rows as build_suite_rows
from baryir.data.suites import unique_labels
from baryir.evaluation.runner import ImageScores, evaluate
from baryir.metrics import EvalProtocol
from baryir.study.budget import CurvePoint, curve_checkpoints, curve_points
from baryir.study.cache import read_scores, write_scores
from baryir.study.config import StudyConfig
from baryir.study.stats import ImageScore

__all__ = ["build_rows", "data_root", "eval_device", "evaluate_curve", "evaluate_run"]


def data_root(config: StudyConfig) -> Path:
    """The study's data root (``data_root`` or ``$BARYIR_DATA``); raises if it is missing."""
    root = Path(config.data_root) if config.data_root else default_data_root()
    if root is None or not root.is_dir():
        raise FileNotFoundError(
            f"study {config.name}: data root not found ({root}); set data_root in the study "
            "file or BARYIR_DATA"
        )
    return root


def build_rows(config: StudyConfig, root: Path) -> list[tuple[str, Any]]:
    """``(group, dataset)`` of every evaluation row, with the label the evaluation loop gives it
    (:func:`~baryir.data.suites.unique_labels`)."""
    evaluation = config.evaluation
    rows = [
        (group, dataset)
        for group, specs in (
            ("id", evaluation.in_distribution),
            ("ood", evaluation.out_of_distribution),
            ("kinds", evaluation.unseen_kinds),
            ("harm", evaluation.do_no_harm),
        )
        for dataset in build_suite_rows(
            specs, root, evaluation.seed, evaluation.max_images, evaluation.crop
        )
    ]
    labels = unique_labels([dataset.label for _, dataset in rows])
    for (_, dataset), label in zip(rows, labels, strict=True):
        dataset.label = label
    return rows


def eval_device(config: StudyConfig) -> str:
    """``evaluation.device`` with ``auto`` resolved (CUDA when available)."""
    device = config.evaluation.device
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def evaluate_run(
    config: StudyConfig,
    checkpoint: Path,
    datasets: list[tuple[str, Any]],
    arm: str,
    seed: int,
    cache: Path | None,
) -> tuple[list[ImageScore], dict[tuple[str, int, str], float], float]:
    """Score one checkpoint on every row; per-image PSNRs, row SSIMs and the wall seconds."""
    if cache is not None and cache.is_file():
        return read_scores(cache, arm, seed)
    protocol = EvalProtocol()
    device = eval_device(config)
    group_of = {dataset.label: group for group, dataset in datasets}
    recorded = ImageScores()
    start = time.perf_counter()
    rows = evaluate(
        checkpoint,
        [dataset for _, dataset in datasets],
        protocol=protocol,
        device=device,
        on_image=recorded,
    )
    elapsed = time.perf_counter() - start
    scores = [
        ImageScore(arm, seed, label, group_of[label], name, psnr, input_psnr)
        for label, name, input_psnr, psnr in recorded.rows
    ]
    ssim = {(arm, seed, row): values["ssim"] for row, values in rows.items()}
    if cache is not None:
        write_scores(cache, scores, {row: values["ssim"] for row, values in rows.items()}, elapsed)
    return scores, ssim, elapsed


def evaluate_curve(
    config: StudyConfig,
    run_dir: Path,
    rows: list[tuple[str, Any]],
    arm: str,
    seed: int,
    final_scores: list[ImageScore],
    cache_prefix: str,
    fresh: bool,
) -> list[CurvePoint]:
    """Score the budget-curve checkpoints of a run on the in-distribution and do-no-harm rows
    (cached in ``<cache_prefix>-step<N>.json``); the final step is ``final_scores``."""
    curve_rows = [(group, dataset) for group, dataset in rows if group in ("id", "harm")]
    labels = {dataset.label for _, dataset in curve_rows}
    by_step = {config.steps: [s for s in final_scores if s.row in labels]}
    for step, checkpoint in curve_checkpoints(run_dir, config.steps):
        cache = run_dir / f"{cache_prefix}-step{step}.json"
        if fresh:
            cache.unlink(missing_ok=True)
        by_step[step] = evaluate_run(config, checkpoint, curve_rows, arm, seed, cache)[0]
    return curve_points(by_step)
