"""Evaluation suites: named lists of test sets, synthetic degradations and real photos, from YAML.

A suite file (``configs/suites/ood.yaml``)::

    name: ood
    seed: 0                      # seeds every synthetic degradation (with the spec and file stem)
    root: null                   # data root; default $BARYIR_SHARED_DATA or ../shared/data
    protocol: {channel: rgb}     # EvalProtocol fields (optional)
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
seeded by ``(seed, spec, file stem)``, so two runs give the same inputs.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from baryir.io.yaml_file import parse_dataclass, read_yaml_mapping
from baryir.metrics import EvalProtocol

__all__ = ["Suite", "SuiteEntry", "SuiteFile", "SuiteSet", "load_suite", "parse_suite"]


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
        clean_sets: clean test sets, each degraded by every entry of ``degradations``.
        degradations: degradation specs (a bare number is a noise sigma).
        sets: further test set specs, or ``{spec, note, label}`` mappings.
        real: folders of real degraded photos (no ground truth), relative to ``root``.
    """

    name: str = "suite"
    seed: int = 0
    root: str | None = None
    protocol: EvalProtocol = field(default_factory=EvalProtocol)
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
    """

    name: str
    seed: int = 0
    root: Path | None = None
    protocol: EvalProtocol = field(default_factory=EvalProtocol)
    sets: tuple[SuiteSet, ...] = ()
    real: tuple[str, ...] = ()

    def build(self, root: Path | None = None, max_images: int | None = None) -> list[Dataset]:
        """The datasets of :attr:`sets`, each with ``label`` set to the row label."""
        from baryir.data.datasets.testsets import build_test_set
        from baryir.evaluation.runner import default_data_root

        root = root or self.root or default_data_root()
        datasets = []
        for entry in self.sets:
            dataset = build_test_set(entry.spec, root=root, seed=self.seed, max_images=max_images)
            dataset.label = entry.label
            datasets.append(dataset)
        return datasets

    def real_folders(self, root: Path | None = None) -> list[Path]:
        """The real-photo folders, resolved against ``root``; raises if one is missing."""
        from baryir.evaluation.runner import default_data_root

        base = root or self.root or default_data_root() or Path.cwd()
        folders = [base / entry for entry in self.real]  # an absolute entry replaces base
        missing = [str(folder) for folder in folders if not folder.is_dir()]
        if missing:
            raise FileNotFoundError(f"suite {self.name}: real-photo folder not found: {missing[0]}")
        return folders


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
    degradations = [str(spec) for spec in file.degradations]
    if bool(file.clean_sets) != bool(degradations):
        raise ValueError(f"{where}: 'clean_sets' and 'degradations' go together")
    from baryir.data.datasets.testsets import degradation_spec, test_set_label
    from baryir.degradations import build_degradation

    for spec in degradations:
        build_degradation(degradation_spec(spec))
    specs = [f"{clean}:{spec}" for clean in file.clean_sets for spec in degradations]
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
    )


def load_suite(path: str | Path) -> Suite:
    """Read a suite YAML file (see the module docstring); the name defaults to the file stem."""
    return parse_suite(read_yaml_mapping(path, "suite file"), where=str(path))
