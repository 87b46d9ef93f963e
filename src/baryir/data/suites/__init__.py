"""Evaluation suites: named lists of rows to score, with their seed and protocol, from YAML.

A suite names its rows: test sets, synthetic degradations of clean sets and real photos.
``baryir suite --config NAME``, ``baryir compare --sets suite:NAME``, ``baryir test
--data.test_sets '[suite:NAME]'`` (the data module's rows) and the study refer to suites in the
one spec grammar (:mod:`baryir.specs`: ``suite:ood``, a ``.yaml`` path; :func:`build_rows`).
The library's suites ship in this folder (:func:`list_suites`): ``do-no-harm``, ``ood``,
``standard`` and ``unseen``. A suite file (``baryir/data/suites/ood.yaml``)::

    name: ood
    seed: 0                      # seeds every synthetic degradation (with the spec and file stem)
    root: null                   # data root; default $BARYIR_DATA
    protocol: {channel: rgb}     # EvalProtocol fields (optional): how every row is scored
    include: [do-no-harm]        # suites whose degradations come first (on these clean sets)
    clean_sets: [CBSD68, Kodak24, McMaster]
    degradations: [noise:75, jpeg:10, defocus:2+noise:15]   # applied to every clean set
    sets:                        # further test set rows, optionally with a note
      - Rain100H
      - {spec: Rain100L, note: "2 pairs: smoke test only"}
    real: [real/noisy-RNI15]     # folders without ground truth (relative to root): restored only

Rows are labelled ``"<set> <degradation spec>"`` (``"CBSD68 noise:75"``,
``"Kodak24 noise:15+jpeg:20"``), so the table says exactly what was applied; paired sets keep
their name, with the note in brackets. Each image's degradation is seeded by
``(seed, spec, file stem)``, so two runs give the same inputs. A row's label is made here
(:func:`unique_labels` for rows given ad hoc; a suite file's rows must be unique). Every
dataset a suite builds carries the suite's ``protocol``, which the evaluation loop scores it
by in every command (:class:`~baryir.evaluation.runner.EvaluationLoop`); rows given without a
suite are scored by the command's protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from baryir.io.yaml_file import parse_dataclass, read_yaml_mapping
from baryir.metrics import EvalProtocol
from baryir.specs import (
    SetSpec,
    SuiteRef,
    degradation_text,
    is_path,
    parse_row,
    parse_suite_ref,
    subset_text,
)

SUITES_DIR = Path(__file__).resolve().parent
"""Where the library's suites are (``<name>.yaml``)."""

__all__ = [
    "SUITES_DIR",
    "Suite",
    "SuiteEntry",
    "SuiteFile",
    "SuiteSet",
    "build_rows",
    "expand_specs",
    "list_suites",
    "load_suite",
    "parse_suite",
    "unique_labels",
]


@dataclass(frozen=True)
class SuiteSet:
    """One row of a suite: a :func:`build_test_set` spec, its row label and an optional note."""

    spec: str
    label: str
    note: str | None = None


@dataclass(frozen=True)
class SuiteEntry:
    """An entry of a suite file's ``sets`` given as a mapping.

    Args:
        spec: a :func:`build_test_set` spec.
        note: shown in brackets after the row label.
        label: the row label (default: made from the spec).
    """

    spec: str
    note: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class SuiteFile:
    """The keys of a suite file (see the module docstring), checked by jsonargparse.

    Args:
        name: suite name (default: the file stem).
        seed: seed of the synthetic degradations.
        root: data root for named sets and the real folders.
        protocol: how outputs are scored (:class:`EvalProtocol` fields).
        include: suites (library names or ``.yaml`` paths) whose degradations come before
            this suite's own, on this suite's clean sets (e.g. ``[do-no-harm]``).
        clean_sets: clean test sets (names, or folders written as paths), each degraded by
            every entry of ``degradations``.
        degradations: degradation specs (a bare number is a noise sigma).
        sets: further test set rows, or ``{spec, note, label}`` mappings.
        real: folders of real degraded photos (no ground truth), relative to ``root``.
    """

    name: str = "suite"
    seed: int = 0
    root: str | None = None
    protocol: EvalProtocol = field(default_factory=EvalProtocol)
    include: list[str] = field(default_factory=list)
    clean_sets: list[str] = field(default_factory=list)
    degradations: list[str | int | float] = field(default_factory=list)
    sets: list[str | SuiteEntry] = field(default_factory=list)
    real: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Suite:
    """A parsed suite file (see the module docstring).

    Attributes:
        name: suite name (used for the default output folder).
        seed: seed of the synthetic degradations.
        root: data root for named sets and the real folders (None: the default root).
        protocol: how outputs are scored.
        sets: the scored rows, in order.
        real: folders of real degraded photos (no ground truth), relative to ``root``.
        clean_sets: the clean sets the ``degradations`` are applied to.
        degradations: the degradation specs of the clean sets' rows (included suites' first).
    """

    name: str
    seed: int = 0
    root: Path | None = None
    protocol: EvalProtocol = field(default_factory=EvalProtocol)
    sets: tuple[SuiteSet, ...] = ()
    real: tuple[str, ...] = ()
    clean_sets: tuple[str, ...] = ()
    degradations: tuple[str, ...] = ()

    def build(
        self,
        root: str | Path | None = None,
        max_images: int | None = None,
        crop: int | None = None,
    ) -> list[Dataset]:
        """The datasets of :attr:`sets`, each with ``label`` set to the row label and
        ``protocol`` to the suite's.

        Args:
            root: data root (default: the suite's, else the default data root).
            max_images: keep the first N images of each row.
            crop: central crop side (None: whole images).
        """
        from baryir.data.datasets.testsets import build_test_set, default_data_root

        root = root or self.root or default_data_root()
        datasets = []
        for entry in self.sets:
            dataset = build_test_set(entry.spec, root, self.seed, max_images, crop)
            dataset.label = entry.label
            dataset.protocol = self.protocol
            datasets.append(dataset)
        return datasets

    def real_folders(self, root: Path | None = None) -> list[Path]:
        """The real-photo folders, resolved against ``root``; raises if one is missing."""
        from baryir.data.datasets.testsets import default_data_root

        base = root or self.root or default_data_root() or Path.cwd()
        folders = [base / entry for entry in self.real]  # an absolute entry replaces base
        missing = [str(folder) for folder in folders if not folder.is_dir()]
        if missing:
            raise FileNotFoundError(f"suite {self.name}: real-photo folder not found: {missing[0]}")
        return folders


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Row labels made unique: a repeated label gets `` #2``, `` #3``, ... in order.

    Every evaluated row is named through this (a suite file's rows are unique already).

    Example:
        >>> unique_labels(["CBSD68 noise:25", "Rain100H", "CBSD68 noise:25"])
        ['CBSD68 noise:25', 'Rain100H', 'CBSD68 noise:25 #2']
    """
    taken: set[str] = set()
    unique = []
    for label in labels:
        name, count = label, 2
        while name in taken:
            name, count = f"{label} #{count}", count + 1
        taken.add(name)
        unique.append(name)
    return unique


def _suite_set(entry: str | SuiteEntry) -> SuiteSet:
    from baryir.data.datasets.testsets import test_set_label

    spec, note, label = (entry, None, None) if isinstance(entry, str) else astuple(entry)
    row = parse_row(spec)
    if not isinstance(row, SetSpec) or row.suite is not None:
        raise ValueError(f"suite sets: {spec!r} is a suite; put it in 'include'")
    label = label or test_set_label(spec)
    return SuiteSet(spec, f"{label} [{note}]" if note else label, note)


def parse_suite(config: dict[str, Any], where: str = "suite") -> Suite:
    """Build a :class:`Suite` from a parsed YAML mapping (``where`` names it in errors).

    The keys and their types are checked by jsonargparse (:class:`SuiteFile`); the rest here.
    """
    file = SuiteFile(**parse_dataclass(SuiteFile, config, where))
    degradations = [spec for name in file.include for spec in load_suite(name).degradations]
    degradations += [degradation_text(str(spec)) for spec in file.degradations]
    if bool(file.clean_sets) != bool(degradations):
        raise ValueError(f"{where}: 'clean_sets' and 'degradations' go together")
    from baryir.data.datasets.testsets import test_set_label
    from baryir.degradations import build_degradation

    for spec in degradations:
        build_degradation(spec)
    specs = [degraded_row(clean, spec) for clean in file.clean_sets for spec in degradations]
    sets = [SuiteSet(spec, test_set_label(spec)) for spec in specs]
    sets += [_suite_set(entry) for entry in file.sets]
    if not sets and not file.real:
        raise ValueError(f"{where}: the suite has no sets and no real folders")
    labels = [s.label for s in sets]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate rows {duplicates}")
    return Suite(
        name=file.name,
        seed=file.seed,
        root=Path(file.root) if file.root else None,
        protocol=file.protocol,
        sets=tuple(sets),
        real=tuple(file.real),
        clean_sets=tuple(file.clean_sets),
        degradations=tuple(degradations),
    )


def degraded_row(clean_set: str, degradation: str) -> str:
    """The row of a clean set (a name, or a folder path) under a degradation:
    ``CBSD68:noise:25``, ``noise:25@/data/photos``."""
    return f"{degradation}@{clean_set}" if is_path(clean_set) else f"{clean_set}:{degradation}"


def list_suites() -> list[str]:
    """The names of the library's suites (``load_suite(name)`` reads one)."""
    return sorted(path.stem for path in SUITES_DIR.glob("*.yaml"))


def _suite_path(ref: SuiteRef) -> Path:
    if ref.path is not None:
        return ref.path
    if ref.name not in list_suites():
        raise ValueError(
            f"unknown suite {ref.name!r}; library suites: {', '.join(list_suites())}, or a "
            "suite file's path (my-suite.yaml)"
        )
    return SUITES_DIR / f"{ref.name}.yaml"


def _set_row(spec: str, row: SetSpec) -> SetSpec:
    """``row``, refused when a bare name is a suite's (never a test set's: the grammar)."""
    if not row.folder and row.suite is None and row.source in list_suites():
        raise ValueError(
            f"{spec!r} names a suite: write suite:{row.source} for the suite, or "
            f"./{row.source} for a folder of that name"
        )
    return row


def expand_specs(specs: Sequence[str]) -> list[str]:
    """Row specs with suite references spelled out (:mod:`baryir.specs`): ``suite:NAME`` (or a
    ``.yaml`` path) gives its rows' specs, ``"<clean set>:suite:NAME"`` the suite's
    degradations on that clean set; other rows stay as they are.

    Example:
        >>> expand_specs(["CBSD68:25", "CBSD68:suite:do-no-harm"])
        ['CBSD68:25', 'CBSD68:clean', 'CBSD68:noise:5', 'CBSD68:jpeg:40']
    """
    expanded: list[str] = []
    for spec in specs:
        row = parse_row(spec)
        if isinstance(row, SuiteRef):
            expanded += [entry.spec for entry in load_suite(row).sets]
        elif _set_row(spec, row).suite is not None:
            clean = row.source + (subset_text(row.subset) if row.subset else "")
            expanded += [degraded_row(clean, d) for d in load_suite(row.suite).degradations]
        else:
            expanded.append(spec)
    return expanded


def build_rows(
    specs: Sequence[str],
    root: str | Path | None = None,
    seed: int = 0,
    max_images: int | None = None,
    crop: int | None = None,
) -> list[Dataset]:
    """The datasets of row specs (:mod:`baryir.specs`): a test set (``"CBSD68:25"``, with
    ``seed``), a suite (``"suite:ood"``, a ``.yaml`` path: all its rows, with the suite's seed,
    labels and protocol) or a clean set under a suite's degradations
    (``"CBSD68:suite:do-no-harm"``, :func:`expand_specs`).

    Example:
        >>> rows = build_rows(["suite:do-no-harm"], root, max_images=1)  # doctest: +SKIP
        >>> [d.label for d in rows][:2]  # doctest: +SKIP
        ['CBSD68 clean', 'CBSD68 noise:5']
    """
    from baryir.data.datasets.testsets import build_test_set

    datasets: list[Dataset] = []
    for spec in specs:
        row = parse_row(spec)
        if isinstance(row, SuiteRef):
            datasets += load_suite(row).build(root, max_images, crop)
        else:
            datasets += [
                build_test_set(one, root, seed, max_images, crop) for one in expand_specs([spec])
            ]
    return datasets


def load_suite(ref: str | Path | SuiteRef) -> Suite:
    """Read a suite: a library suite's name (``"ood"`` or ``"suite:ood"``, :func:`list_suites`)
    or a YAML file (a ``Path``, or a string ending in ``.yaml`` or written as a path; see the
    module docstring); the name defaults to the file stem. Which files exist never changes
    what ``ref`` names."""
    if isinstance(ref, Path):
        ref = SuiteRef(path=ref)
    elif isinstance(ref, str):
        ref = parse_suite_ref(ref)
    path = _suite_path(ref)
    return parse_suite(read_yaml_mapping(path, "suite file"), where=str(path))
