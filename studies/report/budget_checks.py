"""What the budget curve says: the plateau of the last quarter and the budget targets.

:func:`last_quarter_gain` is how much mean in-distribution PSNR the last quarter of the budget
added on the curve's run (a single run: seed and image noise are not separated from it). With
targets (``budget_curve.min_gain``/``min_psnr``), :func:`check_targets` says whether the
reference arm reaches them at the full budget, over its seeds, and :func:`first_step_meeting`
from which step of the curve on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from baryir.data.datasets.testsets import test_set_label
from baryir.study.budget import CurvePoint
from baryir.study.stats import ImageScore

__all__ = ["TargetCheck", "check_targets", "first_step_meeting", "last_quarter_gain", "mean_gain"]


def mean_gain(points: Sequence[CurvePoint], step: int, group: str) -> float:
    """Mean over the ``group`` rows at ``step`` of PSNR minus input PSNR; rows whose input
    equals the target (infinite input PSNR, e.g. ``clean``) are left out (nan: no row left)."""
    gains = [
        p.psnr - p.input_psnr
        for p in points
        if p.step == step and p.group == group and np.isfinite(p.input_psnr)
    ]
    return float(np.mean(gains)) if gains else float("nan")


def last_quarter_gain(points: Sequence[CurvePoint], steps: int) -> tuple[int, float] | None:
    """``(step, gain)``: the last scored step at or before ``3/4`` of ``steps`` and the mean
    in-distribution PSNR gained from it to the final step (None: no such step)."""
    early = [p.step for p in points if p.step <= 0.75 * steps and p.group == "id"]
    if not early or not any(p.step == steps for p in points):
        return None
    start = max(early)
    return start, mean_gain(points, steps, "id") - mean_gain(points, start, "id")


@dataclass(frozen=True)
class TargetCheck:
    """One budget target on the reference arm at the full budget.

    ``value`` is the mean over seeds of the row's value (gain over the input, or PSNR, in dB,
    from the mean PSNRs of the row's images), ``worst`` the lowest seed's; the target is met
    when ``value >= target``.
    """

    row: str
    kind: str
    target: float
    value: float
    worst: float
    seeds: int

    @property
    def met(self) -> bool:
        """Whether the mean over seeds reaches the target (False when nothing was scored)."""
        return bool(self.value >= self.target)


def _value(psnr: float, input_psnr: float, kind: str) -> float:
    return psnr - input_psnr if kind == "gain" else psnr


def _names_row(target: str, row: str) -> bool:
    """Whether a target, named by its row's spec as the study file writes it (``"CBSD68:50"``),
    is the scored ``row`` (named by its label, ``"CBSD68 noise:50"``; or by that spec)."""
    return row in (target, test_set_label(target))


def check_targets(
    scores: Sequence[ImageScore], targets: dict[str, tuple[str, float]]
) -> list[TargetCheck]:
    """Check ``targets`` (row -> ``("gain" | "psnr", least dB)``) on the reference arm's scores
    (every seed), in the targets' order; a row without scores gets nan (not met)."""
    checks = []
    for row, (kind, least) in targets.items():
        per_seed = []
        mine = [s for s in scores if _names_row(row, s.row)]
        for seed in sorted({s.seed for s in mine}):
            own = [s for s in mine if s.seed == seed]
            psnr = float(np.mean([s.psnr for s in own]))
            per_seed.append(_value(psnr, float(np.mean([s.input_psnr for s in own])), kind))
        value = float(np.mean(per_seed)) if per_seed else float("nan")
        worst = float(min(per_seed)) if per_seed else float("nan")
        checks.append(TargetCheck(row, kind, least, value, worst, len(per_seed)))
    return checks


def first_step_meeting(
    points: Sequence[CurvePoint], targets: dict[str, tuple[str, float]]
) -> int | None:
    """The first step of the curve at which every target is met (None: at no step)."""
    for step in sorted({p.step for p in points}):
        at_step = [p for p in points if p.step == step]
        if all(
            any(
                _names_row(row, p.row) and _value(p.psnr, p.input_psnr, kind) >= least
                for p in at_step
            )
            for row, (kind, least) in targets.items()
        ):
            return step
    return None
