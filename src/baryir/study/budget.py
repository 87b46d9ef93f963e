"""Budget evidence: the reference arm's first run, scored along its training.

With ``budget_curve: {every: N}`` in the study file, the run of the reference arm and first
seed also saves a checkpoint every ``N`` steps (:func:`curve_callback`, in
``checkpoints/curve/``; the same training, a few more files). The runner scores each one on the
in-distribution and do-no-harm rows like the final checkpoint (cached per step), and
:func:`curve_points` averages the images of each row: the ``<name>-budget.csv`` of the results,
from which the report (``studies/report/budget_checks.py``) reads the plateau and the targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from baryir.study.stats import ImageScore

__all__ = ["CurvePoint", "curve_callback", "curve_checkpoints", "curve_points"]

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
