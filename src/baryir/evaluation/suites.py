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

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from baryir.io.yaml_file import read_yaml_mapping
from baryir.metrics import EvalProtocol

__all__ = ["Suite", "SuiteSet", "load_suite", "parse_suite"]

_KEYS = {"name", "seed", "root", "protocol", "clean_sets", "degradations", "sets", "real"}


@dataclass(frozen=True)
class SuiteSet:
    """One row of a suite: a :func:`build_test_set` spec, its row label and an optional note."""

    spec: str
    label: str
    note: str | None = None


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
        from baryir.data.datasets.synthetic import SyntheticSource
        from baryir.data.datasets.testsets import TEST_SETS, build_test_set, find_test_folder
        from baryir.evaluation.runner import default_data_root

        root = root or self.root or default_data_root()
        datasets = []
        for entry in self.sets:
            name, _, degradation = entry.spec.partition(":")
            info = next((i for i in TEST_SETS.values() if i.name.lower() == name.lower()), None)
            if info is not None and not info.paired and degradation and root is not None:
                # a clean set built directly: build_test_set's own labels reject "noise:15+jpeg:20"
                if degradation.replace(".", "", 1).isdigit():
                    degradation = f"noise:{degradation}"
                dataset = SyntheticSource.from_folder(
                    find_test_folder(info, root),
                    degradation,
                    patch_size=None,
                    train=False,
                    seed=self.seed,
                    label=entry.label,
                )
                if max_images is not None:
                    dataset.images = dataset.images[:max_images]
                    dataset.image_count = len(dataset.images)
            else:
                dataset = build_test_set(
                    entry.spec, root=root, seed=self.seed, max_images=max_images
                )
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


def _strings(value: Any, key: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings")
    return [str(v) for v in value]


def _synthetic_label(clean_set: str, spec: str) -> str:
    if spec.replace(".", "", 1).isdigit():
        spec = f"noise:{spec}"
    return f"{clean_set} {spec}"


def _spec_label(spec: str) -> str:
    if "@" in spec:
        degradation, _, folder = spec.partition("@")
        return _synthetic_label(Path(folder).name, degradation)
    name, _, degradation = spec.partition(":")
    return _synthetic_label(name, degradation) if degradation else spec


def _parse_sets(value: Any, where: str) -> list[SuiteSet]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: 'sets' must be a list")
    out = []
    for entry in value:
        if isinstance(entry, str):
            spec, note, label = entry, None, None
        elif isinstance(entry, dict) and isinstance(entry.get("spec"), str):
            unknown = set(entry) - {"spec", "note", "label"}
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)} in set {entry!r}")
            spec, note, label = entry["spec"], entry.get("note"), entry.get("label")
        else:
            raise ValueError(f"{where}: each of 'sets' is a spec string or {{spec, note}}")
        label = label or _spec_label(spec)
        out.append(SuiteSet(spec, f"{label} [{note}]" if note else label, note))
    return out


def parse_suite(config: dict[str, Any], where: str = "suite") -> Suite:
    """Build a :class:`Suite` from a parsed YAML mapping (``where`` names it in errors)."""
    if not isinstance(config, dict):
        raise ValueError(f"{where}: expected a mapping at the top level")
    unknown = set(config) - _KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; valid: {sorted(_KEYS)}")
    clean_sets = _strings(config.get("clean_sets"), "clean_sets", where)
    degradations = _strings(config.get("degradations"), "degradations", where)
    if bool(clean_sets) != bool(degradations):
        raise ValueError(f"{where}: 'clean_sets' and 'degradations' go together")
    from baryir.degradations import build_degradation

    for spec in degradations:
        build_degradation(f"noise:{spec}" if spec.replace(".", "", 1).isdigit() else spec)
    sets = [
        SuiteSet(f"{clean}:{spec}", _synthetic_label(clean, spec))
        for clean in clean_sets
        for spec in degradations
    ]
    sets += _parse_sets(config.get("sets"), where)
    real = _strings(config.get("real"), "real", where)
    if not sets and not real:
        raise ValueError(f"{where}: the suite has no sets and no real folders")
    protocol_config = config.get("protocol") or {}
    valid = {f.name for f in fields(EvalProtocol)}
    if not isinstance(protocol_config, dict) or set(protocol_config) - valid:
        raise ValueError(f"{where}: 'protocol' takes EvalProtocol fields {sorted(valid)}")
    labels = [s.label for s in sets]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate rows {duplicates}")
    root = config.get("root")
    return Suite(
        name=str(config.get("name") or "suite"),
        seed=int(config.get("seed", 0)),
        root=Path(root) if root else None,
        protocol=EvalProtocol(**protocol_config),
        sets=tuple(sets),
        real=tuple(real),
    )


def load_suite(path: str | Path) -> Suite:
    """Read a suite YAML file (see the module docstring); the name defaults to the file stem."""
    return parse_suite(read_yaml_mapping(path, "suite file"), where=str(path))
