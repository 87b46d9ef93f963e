"""Read a study's results (the files of :mod:`baryir.study.results`) back into their rows.

Every CSV is read into the dataclass that wrote it, each cell converted to its field's type
(``bool`` from ``True``/``False``, a tuple of floats from ``(a, b, c)``, ``nan`` included).
"""

from __future__ import annotations

import csv
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import torch

from baryir.evaluation.embedding import Embeddings
from baryir.study.budget import CurvePoint
from baryir.study.dose import DoseRow, ShareTrace
from baryir.study.mechanism import MechanismRow, MechanismScore
from baryir.study.meta import StudyMeta
from baryir.study.results import SHARE_COLUMNS
from baryir.study.stats import ArmRow, DifferenceRow, ImageScore
from baryir.study.training import RunTiming

__all__ = ["StudyResults", "read_csv", "read_results"]

Row = TypeVar("Row")


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.strip("()").split(","))


def _converter(kind: Any) -> Callable[[str], Any]:
    if kind is bool:
        return lambda text: text == "True"
    if typing.get_origin(kind) is tuple:
        return _floats
    return kind


def read_csv(path: Path, kind: type[Row]) -> list[Row]:
    """The rows of a CSV written from ``kind`` dataclasses; raises naming a missing column."""
    hints = typing.get_type_hints(kind)
    convert = {f.name: _converter(hints[f.name]) for f in fields(kind)}  # type: ignore[arg-type]
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [name for name in convert if rows and name not in rows[0]]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (a {kind.__name__} file?)")
    return [kind(**{k: convert[k](row[k]) for k in convert}) for row in rows]


def _traces(path: Path) -> list[ShareTrace]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, fieldnames=SHARE_COLUMNS))[1:]
    runs: dict[tuple[str, int, str], list[tuple[int, float]]] = {}
    for row in rows:
        key = (row["arm"], int(row["seed"]), row["term"])
        runs.setdefault(key, []).append((int(row["step"]), float(row["share"])))
    return [ShareTrace(*key, tuple(points)) for key, points in runs.items()]


def _embeddings(path: Path) -> dict[str, Embeddings]:
    saved = json.loads(path.read_text(encoding="utf-8"))
    return {
        arm: Embeddings(
            torch.tensor(one["barycenter"]), torch.tensor(one["residual"]), one["labels"]
        )
        for arm, one in saved.items()
    }


@dataclass
class StudyResults:
    """A finished study's results, as :func:`read_results` found them in ``folder``."""

    folder: Path
    arm_rows: list[ArmRow]
    differences: list[DifferenceRow]
    scores: list[ImageScore]
    timings: list[RunTiming]
    meta: StudyMeta
    mechanism_rows: list[MechanismRow] = field(default_factory=list)
    mechanism_runs: list[MechanismScore] = field(default_factory=list)
    embeddings: dict[str, Embeddings] = field(default_factory=dict)
    curve: list[CurvePoint] = field(default_factory=list)
    doses: list[DoseRow] = field(default_factory=list)
    traces: list[ShareTrace] = field(default_factory=list)


def read_results(folder: Path, name: str) -> StudyResults:
    """The results of study ``name`` in ``folder`` (the optional files may be absent)."""
    meta_path = folder / f"{name}-meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"no results of study {name!r} in {folder} (no {meta_path.name})")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["mechanism_rows"] = tuple(meta.get("mechanism_rows", ()))

    def optional(suffix: str, read: Callable[[Path], Any], empty: Any) -> Any:
        path = folder / f"{name}{suffix}"
        return read(path) if path.is_file() else empty

    return StudyResults(
        folder,
        read_csv(folder / f"{name}.csv", ArmRow),
        read_csv(folder / f"{name}-differences.csv", DifferenceRow),
        read_csv(folder / f"{name}-per-image.csv", ImageScore),
        read_csv(folder / f"{name}-timing.csv", RunTiming),
        StudyMeta(**meta),
        optional("-mechanism.csv", lambda p: read_csv(p, MechanismRow), []),
        optional("-mechanism-runs.csv", lambda p: read_csv(p, MechanismScore), []),
        optional("-embeddings.json", _embeddings, {}),
        optional("-budget.csv", lambda p: read_csv(p, CurvePoint), []),
        optional("-dose.csv", lambda p: read_csv(p, DoseRow), []),
        optional("-shares.csv", _traces, []),
    )
