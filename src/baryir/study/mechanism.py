"""The mechanism behind the claim, per run: do the degradations share ``b`` and differ in ``r``?

After a run is scored, its checkpoint embeds the held-out inputs of the in-distribution rows
and of the clean do-no-harm rows (each row one degradation label; the same crops the study
scores) and pools ``b`` and ``r`` per image
(:func:`baryir.evaluation.embedding.collect_embeddings`). Per run (:class:`MechanismScore`):

- ``b_divergence`` (``r_divergence``): :func:`~baryir.evaluation.embedding.cloud_divergence` of
  the pooled ``b`` (``r``): the mean over pairs of rows of the debiased Sinkhorn divergence
  between their clouds, the points divided by the root of the clouds' total variance (0: the
  rows share one distribution; scale-free, so arms compare);
- ``b_silhouette``, ``r_silhouette``, ``b_centroid_accuracy``, ``r_centroid_accuracy``:
  :func:`~baryir.evaluation.embedding.separation_scores`.

A run's result and its pooled embeddings (for the picture) are cached in its folder
(:func:`measure_run`). :func:`summarize_mechanism` averages over seeds and pairs each arm with
the reference seed by seed: the interval of :func:`baryir.study.stats.paired_difference_ci` on
an ``(S, 1)`` block resamples the seeds only (no interval with one seed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from baryir.evaluation.embedding import (
    Embeddings,
    cloud_divergence,
    collect_embeddings,
    separation_scores,
)
from baryir.io.atomic import atomic_write_text
from baryir.study.stats import paired_difference_ci, verdict

__all__ = [
    "METRICS",
    "MechanismRow",
    "MechanismScore",
    "MechanismSummary",
    "mechanism_datasets",
    "measure_run",
    "score_embeddings",
    "summarize_mechanism",
]

METRICS = (
    "b_divergence",
    "r_divergence",
    "b_silhouette",
    "r_silhouette",
    "b_centroid_accuracy",
    "r_centroid_accuracy",
)
"""The fields of :class:`MechanismScore` that are summarised over seeds."""


@dataclass(frozen=True)
class MechanismScore:
    """The mechanism measured on one run (``rows`` degradation labels, ``images`` in all)."""

    arm: str
    seed: int
    b_divergence: float
    r_divergence: float
    b_silhouette: float
    r_silhouette: float
    b_centroid_accuracy: float
    r_centroid_accuracy: float
    rows: int
    images: int


@dataclass(frozen=True)
class MechanismRow:
    """One arm and metric: mean and std over seeds, and the paired difference to the reference.

    ``diff_mean`` is the mean over seeds of ``metric(arm, s) - metric(reference, s)``; ``ci_low``
    and ``ci_high`` its bootstrap interval over seeds (nan for the reference arm and for one
    seed); ``verdict``: ``better`` (interval above 0: larger), ``worse`` (below 0: smaller),
    ``inconclusive`` or ``reference``.
    """

    arm: str
    metric: str
    mean: float
    std: float
    reference: str
    diff_mean: float
    ci_low: float
    ci_high: float
    verdict: str
    seeds: int


@dataclass
class MechanismSummary:
    """What the report shows: every run's scores, the per-arm rows and one run's embeddings per
    arm (the first seed's, for the picture)."""

    runs: list[MechanismScore] = field(default_factory=list)
    rows: list[MechanismRow] = field(default_factory=list)
    embeddings: dict[str, Embeddings] = field(default_factory=dict)


def mechanism_datasets(rows: Sequence[tuple[str, Any]]) -> list[Any]:
    """The datasets of the in-distribution rows and of the clean (``spec == "clean"``)
    do-no-harm rows, from the study's ``(group, dataset)`` rows."""
    return [
        dataset
        for group, dataset in rows
        if group == "id" or (group == "harm" and getattr(dataset, "spec", None) == "clean")
    ]


def score_embeddings(
    embeddings: Embeddings, arm: str, seed: int, blur: float = 0.05
) -> MechanismScore:
    """Divergences (``blur`` relative to the clouds' scale) and separation scores of one run."""
    separation = separation_scores(embeddings)
    b, r = separation["barycenter"], separation["residual"]
    return MechanismScore(
        arm,
        seed,
        cloud_divergence(embeddings.barycenter, embeddings.labels, blur),
        cloud_divergence(embeddings.residual, embeddings.labels, blur),
        b["silhouette"],
        r["silhouette"],
        b["centroid_accuracy"],
        r["centroid_accuracy"],
        len(set(embeddings.labels)),
        len(embeddings.labels),
    )


def measure_run(
    checkpoint: Path,
    datasets: Sequence[Any],
    arm: str,
    seed: int,
    blur: float,
    device: str,
    cache: Path | None,
) -> tuple[MechanismScore, Embeddings] | None:
    """Embed every image of ``datasets`` with the checkpoint's network and score the mechanism.

    The datasets are used as built (already cut to the study's images and crops). A ``cache``
    file, when present, is read instead; it is written (JSON: the score, the pooled ``(N, C)``
    embeddings and their labels) after a measurement.

    Returns:
        ``(score, embeddings)``, or None when the network has no barycenter (a baseline).
    """
    if cache is not None and cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        embeddings = Embeddings(
            torch.tensor(saved["barycenter"]), torch.tensor(saved["residual"]), saved["labels"]
        )
        return MechanismScore(**saved["score"]), embeddings
    from baryir.models import load_model

    model = load_model(checkpoint)
    if not getattr(model, "has_barycenter", False):
        return None
    embeddings = collect_embeddings(model, datasets, max_images=None, crop=None, device=device)
    score = score_embeddings(embeddings, arm, seed, blur)
    if cache is not None:
        saved = {
            "score": asdict(score),
            "barycenter": embeddings.barycenter.tolist(),
            "residual": embeddings.residual.tolist(),
            "labels": embeddings.labels,
        }
        atomic_write_text(cache, json.dumps(saved))
    return score, embeddings


def summarize_mechanism(
    scores: Sequence[MechanismScore],
    arms: Sequence[str],
    reference: str,
    seeds: Sequence[int],
    level: float = 0.95,
    n_boot: int = 10000,
) -> list[MechanismRow]:
    """One row per measured arm (every seed measured) and metric of :data:`METRICS`.

    The differences to ``reference`` are left nan when the reference arm was not measured.
    """
    by_run = {(s.arm, s.seed): s for s in scores}
    measured = [arm for arm in arms if all((arm, seed) in by_run for seed in seeds)]
    rows = []
    for index, metric in enumerate(METRICS):
        values = {
            arm: torch.tensor([getattr(by_run[arm, s], metric) for s in seeds], dtype=torch.float64)
            for arm in measured
        }
        for arm in measured:
            mean = float(values[arm].mean())
            std = float(values[arm].std()) if len(seeds) > 1 else float("nan")
            nan = float("nan")
            if arm == reference or reference not in values:
                diff = (nan, nan, nan)
                mark = "reference" if arm == reference else "inconclusive"
            else:
                block = (values[arm] - values[reference])[:, None]
                if len(seeds) > 1:
                    diff = paired_difference_ci([block], level, n_boot, seed=index)
                else:
                    diff = (float(block.mean()), nan, nan)
                mark = verdict(*diff[1:])
            rows.append(MechanismRow(arm, metric, mean, std, reference, *diff, mark, len(seeds)))
    return rows
