"""Budget evidence: the reference arm's first run, scored along its training.

With ``budget_curve: {every: N}`` in the study file, the run of the reference arm and first
seed also saves a checkpoint every ``N`` steps (:func:`curve_callback`, in
``checkpoints/curve/``; the same training, a few more files). The runner scores each one on the
in-distribution and do-no-harm rows like the final checkpoint (cached per step), and
:func:`curve_points` averages the images of each row: the report's table of steps against PSNR,
and :func:`last_quarter_gain`, how much mean in-distribution PSNR the last quarter of the budget
added (a single run: seed and image noise are not separated from it). With targets
(``budget_curve.min_gain``/``min_psnr``), :func:`check_targets` says whether the reference arm
reaches them at the full budget, over its seeds, and :func:`first_step_meeting` from which step
of the curve on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from baryir.data.datasets.testsets import test_set_label
from baryir.study.stats import ImageScore

__all__ = [
    "CurvePoint",
    "TargetCheck",
    "check_targets",
    "curve_callback",
    "curve_checkpoints",
    "curve_points",
    "first_step_meeting",
    "last_quarter_gain",
    "mean_gain",
]

_PREFIX = "step-"


def curve_callback(run_dir: Path, every: int) -> dict[str, Any]:
    """The ``ModelCheckpoint`` (``baryir fit`` config) saving ``step-NNNNNN.ckpt`` every
    ``every`` steps, all kept, into ``run_dir/checkpoints/curve``.

    The LightningModule (``RestorationTask``) optimises manually, so Lightning warns that these
    checkpoints hold the weights after the optimiser step: exactly the network after ``NNNNNN``
    steps, as wanted.
    """
    return {
        "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
        "init_args": {
            "dirpath": str(run_dir / "checkpoints" / "curve"),
            "filename": _PREFIX + "{step:06d}",
            "auto_insert_metric_name": False,
            "every_n_train_steps": every,
            "save_top_k": -1,
            "save_last": False,
        },
    }


def curve_checkpoints(run_dir: Path, steps: int) -> list[tuple[int, Path]]:
    """``(step, path)`` of the saved curve checkpoints before the final step, by step."""
    found = []
    for path in (run_dir / "checkpoints" / "curve").glob(f"{_PREFIX}*.ckpt"):
        step = int(path.stem.removeprefix(_PREFIX))
        if step < steps:
            found.append((step, path))
    return sorted(found)


@dataclass(frozen=True)
class CurvePoint:
    """One row scored at one step: mean PSNR over its images, and the inputs' mean PSNR."""

    step: int
    group: str
    row: str
    psnr: float
    input_psnr: float
    images: int


def curve_points(scores_by_step: dict[int, Sequence[ImageScore]]) -> list[CurvePoint]:
    """Average the images of each row at each step; by step, rows in their scored order."""
    points = []
    for step in sorted(scores_by_step):
        scores = scores_by_step[step]
        for row in dict.fromkeys(s.row for s in scores):
            own = [s for s in scores if s.row == row]
            points.append(
                CurvePoint(
                    step,
                    own[0].group,
                    row,
                    float(np.mean([s.psnr for s in own])),
                    float(np.mean([s.input_psnr for s in own])),
                    len(own),
                )
            )
    return points


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
