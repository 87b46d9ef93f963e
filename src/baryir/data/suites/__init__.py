"""Evaluation suites: the one description of what to evaluate, from YAML.

A suite names its rows: test sets, synthetic degradations of clean sets and real photos.
``baryir suite``, ``baryir compare`` (``--sets``), the data module's default validation and test
rows (the ``do-no-harm`` suite) and the study refer to suites by name or path
(:func:`load_suite`). The library's suites ship in this folder (:func:`list_suites`):
``do-no-harm``, ``ood``, ``standard``, ``unseen``, and ``tasks`` (the test set of each
degradation task: the data module's default rows). A suite file
(``baryir/data/suites/ood.yaml``)::

    name: ood
    seed: 0                      # seeds every synthetic degradation (with the spec and file stem)
    root: null                   # data root; default $BARYIR_DATA
    protocol: {channel: rgb}     # EvalProtocol fields (optional)
    include: [do-no-harm]        # suites whose degradations come first (on these clean sets)
    clean_sets: [CBSD68, Kodak24, McMaster]
    degradations: [noise:75, jpeg:10, defocus:2+noise:15]   # applied to every clean set
    sets:                        # further build_test_set specs, optionally with a note
      - Rain100H
      - {spec: Rain100L, note: "2 pairs: smoke test only"}
    real: [real/noisy-RNI15]     # folders without ground truth (relative to root): restored only

Rows are labelled ``"<set> <degradation spec>"`` (``"CBSD68 noise:75"``,
``"Kodak24 noise:15+jpeg:20"``), so the table says exactly what was applied; paired sets keep
their name, with the note in brackets. The degradations are those of :mod:`baryir.degradations`
(spec grammar in :func:`baryir.degradations.build_degradation`); each image's degradation is
seeded by ``(seed, spec, file stem)``, so two runs give the same inputs. A row's label is made
here (:func:`unique_labels` for rows given ad hoc; a suite file's rows must be unique).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from baryir.io.yaml_file import parse_dataclass, read_yaml_mapping
from baryir.metrics import EvalProtocol

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
    "is_suite",
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
        include: suites (names or paths) whose degradations come before this suite's own, on
            this suite's clean sets (e.g. ``[do-no-harm]``).
        clean_sets: clean test sets, each degraded by every entry of ``degradations``.
        degradations: degradation specs (a bare number is a noise sigma).
        sets: further test set specs, or ``{spec, note, label}`` mappings.
        real: folders of real degraded photos (no ground truth), relative to ``root``.
        by_task: the test set of each degradation task (``data.tasks`` names): the data
            module's default rows for the tasks a run trains (the ``tasks`` suite).
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
    by_task: dict[str, str] = field(default_factory=dict)


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
        by_task: the test set spec of each degradation task (the data module's default rows).
    """

    name: str
    seed: int = 0
    root: Path | None = None
    protocol: EvalProtocol = field(default_factory=EvalProtocol)
    sets: tuple[SuiteSet, ...] = ()
    real: tuple[str, ...] = ()
    clean_sets: tuple[str, ...] = ()
    degradations: tuple[str, ...] = ()
    by_task: dict[str, str] = field(default_factory=dict)

    def build(
        self,
        root: str | Path | None = None,
        max_images: int | None = None,
        crop: int | None = None,
    ) -> list[Dataset]:
        """The datasets of :attr:`sets`, each with ``label`` set to the row label.

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
    label = label or test_set_label(spec)
    return SuiteSet(spec, f"{label} [{note}]" if note else label, note)


def parse_suite(config: dict[str, Any], where: str = "suite") -> Suite:
    """Build a :class:`Suite` from a parsed YAML mapping (``where`` names it in errors).

    The keys and their types are checked by jsonargparse (:class:`SuiteFile`); the rest here.
    """
    file = SuiteFile(**parse_dataclass(SuiteFile, config, where))
    degradations = [spec for name in file.include for spec in load_suite(name).degradations]
    degradations += [str(spec) for spec in file.degradations]
    if bool(file.clean_sets) != bool(degradations):
        raise ValueError(f"{where}: 'clean_sets' and 'degradations' go together")
    from baryir.data.datasets.testsets import degradation_spec, test_set_label
    from baryir.degradations import build_degradation

    for spec in degradations:
        build_degradation(degradation_spec(spec))
    specs = [f"{clean}:{spec}" for clean in file.clean_sets for spec in degradations]
    sets = [SuiteSet(spec, test_set_label(spec)) for spec in specs]
    sets += [_suite_set(entry) for entry in file.sets]
    if not sets and not file.real and not file.by_task:
        raise ValueError(f"{where}: the suite has no sets, no real folders and no by_task rows")
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
        by_task=dict(file.by_task),
    )


def list_suites() -> list[str]:
    """The names of the library's suites (``load_suite(name)`` reads one)."""
    return sorted(path.stem for path in SUITES_DIR.glob("*.yaml"))


def suite_path(name_or_path: str | Path) -> Path:
    """The file of a suite: a library suite's name (:func:`list_suites`), else a path."""
    name = str(name_or_path)
    if name in list_suites() and not Path(name).is_file():
        return SUITES_DIR / f"{name}.yaml"
    return Path(name_or_path)


def is_suite(spec: str) -> bool:
    """Whether a row spec names a suite (a library suite's name or a ``.yaml`` file) rather
    than a test set."""
    if spec.endswith((".yaml", ".yml")):
        return True
    return spec in list_suites() and not Path(spec).is_dir()


def expand_specs(specs: Sequence[str]) -> list[str]:
    """Row specs with suite references spelled out: a suite (:func:`is_suite`) gives its rows'
    specs, ``"<clean set>:<suite>"`` the suite's degradations on that clean set; other specs
    stay as they are.

    Example:
        >>> expand_specs(["CBSD68:25", "CBSD68:do-no-harm"])
        ['CBSD68:25', 'CBSD68:clean', 'CBSD68:noise:5', 'CBSD68:jpeg:40']
    """
    expanded: list[str] = []
    for spec in specs:
        clean_set, _, suite = spec.partition(":")
        if is_suite(spec):
            expanded += [row.spec for row in load_suite(spec).sets]
        elif suite in list_suites():
            expanded += [
                f"{clean_set}:{degradation}" for degradation in load_suite(suite).degradations
            ]
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
    """The datasets of row specs: each a :func:`build_test_set` spec (``"CBSD68:25"``, with
    ``seed``), a suite (:func:`is_suite`: all its rows, with the suite's seed and labels) or a
    clean set under a suite's degradations (``"CBSD68:do-no-harm"``, :func:`expand_specs`).

    Example:
        >>> [d.label for d in build_rows(["do-no-harm"], root, max_images=1)][:2]  # doctest: +SKIP
        ['CBSD68 clean', 'CBSD68 noise:5']
    """
    from baryir.data.datasets.testsets import build_test_set

    datasets: list[Dataset] = []
    for spec in specs:
        if is_suite(spec):
            datasets += load_suite(spec).build(root, max_images, crop)
        else:
            datasets += [
                build_test_set(row, root, seed, max_images, crop) for row in expand_specs([spec])
            ]
    return datasets


def load_suite(name_or_path: str | Path) -> Suite:
    """Read a suite: a library suite's name (``"ood"``, :func:`list_suites`) or a YAML file (see
    the module docstring); the name defaults to the file stem."""
    path = suite_path(name_or_path)
    return parse_suite(read_yaml_mapping(path, "suite file"), where=str(path))
