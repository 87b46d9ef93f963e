"""A study's results: the files ``baryir study`` writes into its output folder.

The report (its Markdown, README and pictures) is written from these files alone by
``python studies/write_report.py --config STUDY.yaml`` (outside the package):

- ``<name>.csv`` (:class:`~baryir.study.stats.ArmRow`), ``<name>-differences.csv``
  (:class:`~baryir.study.stats.DifferenceRow`), ``<name>-per-image.csv``
  (:class:`~baryir.study.stats.ImageScore`), ``<name>-timing.csv``
  (:class:`~baryir.study.training.RunTiming`);
- ``<name>-meta.json``: :class:`~baryir.study.meta.StudyMeta`, how the study was made;
- with the mechanism, ``<name>-mechanism.csv`` and ``<name>-mechanism-runs.csv``
  (:mod:`baryir.study.mechanism`) and ``<name>-embeddings.json`` (the first seed's pooled
  ``b`` and ``r`` per arm, ``(N, C)`` lists, and their row labels);
- with the budget curve, ``<name>-budget.csv`` (:class:`~baryir.study.budget.CurvePoint`);
- with the alignment's gradient shares, ``<name>-dose.csv`` (:class:`~baryir.study.dose.DoseRow`)
  and ``<name>-shares.csv`` (every logged ``(arm, seed, term, step, share)``).

Floats are written with 6 significant digits.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from baryir.data.datasets.testsets import test_set_label
from baryir.data.suites import expand_specs
from baryir.io.atomic import atomic_write_text
from baryir.study.budget import CurvePoint
from baryir.study.config import StudyConfig
from baryir.study.dose import ShareTrace, dose_rows
from baryir.study.mechanism import MechanismSummary
from baryir.study.meta import StudyMeta
from baryir.study.stats import ArmRow, DifferenceRow, ImageScore
from baryir.study.training import RunTiming

__all__ = ["SHARE_COLUMNS", "write_csv", "write_results"]

SHARE_COLUMNS = ("arm", "seed", "term", "step", "share")
"""The columns of ``<name>-shares.csv``."""


def _cell(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


def _write_table(path: Path, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return atomic_write_text(path, buffer.getvalue())


def write_csv(path: Path, rows: Sequence[Any]) -> Path:
    """Write dataclass rows as CSV (header from the field names), atomically."""
    names = [f.name for f in fields(rows[0])] if rows else []
    return _write_table(path, names, [list(asdict(row).values()) for row in rows])


def write_results(
    config: StudyConfig,
    arm_rows: list[ArmRow],
    differences: list[DifferenceRow],
    scores: list[ImageScore],
    timings: list[RunTiming],
    meta: StudyMeta,
    mechanism: MechanismSummary | None = None,
    curve: Sequence[CurvePoint] = (),
    traces: Sequence[ShareTrace] = (),
) -> dict[str, Path]:
    """Write a finished study's results into ``config.output``; returns the files by kind."""
    out = Path(config.output)
    name = config.name
    files = {
        "csv": write_csv(out / f"{name}.csv", arm_rows),
        "differences": write_csv(out / f"{name}-differences.csv", differences),
        "per_image": write_csv(out / f"{name}-per-image.csv", scores),
        "timing": write_csv(out / f"{name}-timing.csv", timings),
        "meta": atomic_write_text(out / f"{name}-meta.json", json.dumps(asdict(meta), indent=2)),
    }
    mechanism = mechanism or MechanismSummary()
    if mechanism.runs:
        files["mechanism"] = write_csv(out / f"{name}-mechanism.csv", mechanism.rows)
        files["mechanism_runs"] = write_csv(out / f"{name}-mechanism-runs.csv", mechanism.runs)
    if mechanism.embeddings:
        saved = {
            arm: {
                "barycenter": [[float(_cell(v)) for v in point] for point in e.barycenter.tolist()],
                "residual": [[float(_cell(v)) for v in point] for point in e.residual.tolist()],
                "labels": list(e.labels),
            }
            for arm in config.arms
            if (e := mechanism.embeddings.get(arm)) is not None
        }
        files["embeddings"] = atomic_write_text(out / f"{name}-embeddings.json", json.dumps(saved))
    if curve:
        files["budget"] = write_csv(out / f"{name}-budget.csv", list(curve))
    if traces:
        harm = expand_specs(config.evaluation.do_no_harm)
        clean_row = next((test_set_label(r) for r in harm if r.endswith(":clean")), None)
        doses = dose_rows(
            traces, differences, mechanism.rows, config.arms, config.reference, clean_row
        )
        files["dose"] = write_csv(out / f"{name}-dose.csv", doses)
        points = [(t.arm, t.seed, t.term, s, v) for t in traces for s, v in t.points]
        files["shares"] = _write_table(out / f"{name}-shares.csv", SHARE_COLUMNS, points)
    return files
