"""Dose and response: how much of the gradient the alignment had, and what it did.

Every run of a study logs each loss term's share of the network's gradient
(``train/grad_share/<term>`` in its ``metrics.csv``: :mod:`baryir.tasks.balance`). Per arm this
module reads the share of its alignment term (``sinkhorn`` or ``potential``) along training
(:func:`read_shares`) and puts it beside what the arm did (:class:`DoseRow`): the b divergence
of the mechanism and the paired PSNR differences to the reference per group, each with its
interval. Its table is :func:`baryir.study.tables.dose_table`, its answers
:func:`baryir.study.prose.dose_text`, its pictures :func:`baryir.study.plots.plot_dose` and
:func:`baryir.study.plots.plot_shares`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from baryir.study.config import arm_solver
from baryir.study.mechanism import MechanismRow
from baryir.study.stats import DifferenceRow

__all__ = [
    "DoseRow",
    "ShareTrace",
    "alignment_term",
    "dose_rows",
    "read_shares",
]


def alignment_term(arm: str) -> str | None:
    """The alignment term of an arm's WB solver: ``sinkhorn``, ``potential`` or None."""
    return {"sinkhorn": "sinkhorn", "potentials": "potential"}.get(arm_solver(arm))


@dataclass(frozen=True)
class ShareTrace:
    """One run's measured share of its alignment term: ``(step, share)`` as logged."""

    arm: str
    seed: int
    term: str
    points: tuple[tuple[int, float], ...]

    def first(self) -> float:
        """The first measurement (step 0: the initial weights, before any balancing)."""
        return self.points[0][1] if self.points else math.nan

    def mean(self, start: float = 0.0, end: float = 1.0) -> float:
        """Mean share over the logged steps from ``start`` to ``end`` of the run (fractions of
        the last logged step, both included)."""
        last = self.points[-1][0] if self.points else 0
        chosen = [v for s, v in self.points if start * last <= s <= end * last]
        return float(np.mean(chosen)) if chosen else math.nan


def read_shares(run_dir: Path, arm: str, seed: int) -> ShareTrace | None:
    """The alignment term's share along a run, from ``<run>/logs/version_*/metrics.csv``.

    Returns:
        the trace, or None for an arm without an alignment term or a run that logged none.
    """
    term = alignment_term(arm)
    found = sorted(run_dir.glob("logs/version_*/metrics.csv"))
    if term is None or not found:
        return None
    column = f"train/grad_share/{term}"
    with found[-1].open(encoding="utf-8", newline="") as handle:
        points = tuple(
            (int(row["step"]), float(row[column]))
            for row in csv.DictReader(handle)
            if row.get(column) not in (None, "")
        )
    return ShareTrace(arm, seed, term, points) if points else None


@dataclass(frozen=True)
class DoseRow:
    """One arm: its measured share (mean over seeds) and what it did, each against the reference.

    ``share_first``: at step 0; ``share_mean``: over the whole run; ``share_end``: over its last
    quarter. ``b_divergence`` and ``b_delta``/``b_low``/``b_high``: the mechanism's scale-free b
    divergence and its paired difference to the reference (interval over seeds). ``id``,
    ``ood``, ``kinds``, ``harm``, ``clean``: paired PSNR differences (mean, low, high) of the
    groups' pooled rows and of the clean row.
    """

    arm: str
    term: str
    share_first: float
    share_mean: float
    share_end: float
    b_divergence: float
    b_delta: float
    b_low: float
    b_high: float
    id: tuple[float, float, float]
    ood: tuple[float, float, float]
    kinds: tuple[float, float, float]
    harm: tuple[float, float, float]
    clean: tuple[float, float, float]


_NAN3 = (math.nan, math.nan, math.nan)


def _last_quarter(trace: ShareTrace) -> float:
    return trace.mean(0.75, 1.0)


def _pooled(differences: Sequence[DifferenceRow], arm: str, group: str) -> tuple[float, ...]:
    row = next(
        (d for d in differences if d.arm == arm and d.group == group and "(mean of" in d.row),
        None,
    )
    return _NAN3 if row is None else (row.diff_mean, row.ci_low, row.ci_high)


def dose_rows(
    traces: Sequence[ShareTrace],
    differences: Sequence[DifferenceRow],
    mechanism: Sequence[MechanismRow],
    arms: Sequence[str],
    reference: str,
    clean_row: str | None,
) -> list[DoseRow]:
    """One row per arm other than ``reference`` (arms without an alignment term have share 0)."""
    cell = {(r.arm, r.metric): r for r in mechanism}
    rows = []
    for arm in arms:
        if arm == reference:
            continue
        own = [t for t in traces if t.arm == arm]
        missing = 0.0 if alignment_term(arm) is None else math.nan
        shares = [
            float(np.mean([f(t) for t in own])) if own else missing
            for f in (ShareTrace.first, ShareTrace.mean, _last_quarter)
        ]
        b = cell.get((arm, "b_divergence"))
        clean = next(
            (d for d in differences if d.arm == arm and d.row == clean_row and clean_row), None
        )
        rows.append(
            DoseRow(
                arm,
                alignment_term(arm) or "-",
                *shares,
                b.mean if b else math.nan,
                b.diff_mean if b else math.nan,
                b.ci_low if b else math.nan,
                b.ci_high if b else math.nan,
                _pooled(differences, arm, "id"),
                _pooled(differences, arm, "ood"),
                _pooled(differences, arm, "kinds"),
                _pooled(differences, arm, "harm"),
                _NAN3 if clean is None else (clean.diff_mean, clean.ci_low, clean.ci_high),
            )
        )
    return rows
