"""Named evaluation sets, found by name under a root, and any folder given by path.

``build_test_set`` takes a test set row of the one spec grammar (:mod:`baryir.specs`):

- ``"CBSD68:25"``: a clean set plus Gaussian noise sigma 25 (label ``"CBSD68 noise:25"``); any
  other degradation spec after the colon also works: ``"Kodak24:jpeg:20"`` (``"Kodak24 jpeg:20"``).
- ``"Rain100H"``, ``"SOTS-outdoor"``, ...: a paired set (input/target folders).
- ``"/some/folder"``, ``"./pairs"``: a paired folder (input/target, rainy/gt, low/high,
  blur/sharp, ...); a folder is always written as a path.
- ``"noise:25@/some/folder"``: a clean folder plus a synthetic degradation.
- ``"Rain100H[70:100]"``, ``"CBSD68[0:10]:25"``: a slice of the files in natural name order
  (``datasets/subset.py``); the label gets the slice appended (``"Rain100H[70:100]"``).
- ``"CDD11:low_haze_rain"``, ``"CDD11:all"``: one degraded folder of the CDD-11 test split, or
  all 11 in one set (labels ``"CDD11 low_haze_rain"``, ``"CDD11 all"``; ``datasets/cdd11.py``).

Suites (``suite:ood``) are rows of :func:`baryir.data.suites.build_rows`, not test sets.

Names are searched, case-insensitively, under ``root`` (the config's, else ``$BARYIR_DATA``:
:func:`default_data_root`) in the shared-data layout
(``CBSD68/``, ``Rain100H/{input,target}``) and the paper layout (``test/denoise/bsd68``,
``test/derain/Rain100L``, ``test/dehaze``, ...). Files are sorted; synthetic inputs are seeded by
``(seed, degradation spec, file stem)``, so they do not depend on the folder order.
GoPro is expected as ``{input,target}`` or ``{blur,sharp}`` folders (not per-scene folders).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.cdd11 import cdd11_test_set, find_cdd11
from baryir.data.datasets.paired import PairedDataset
from baryir.data.datasets.subset import take_subset
from baryir.data.datasets.synthetic import SyntheticDataset
from baryir.data.degradation_tasks import TASKS
from baryir.specs import SetSpec, parse_row, subset_text

__all__ = [
    "DATA_ROOT_VARIABLE",
    "TEST_SETS",
    "TestSetInfo",
    "build_test_set",
    "default_data_root",
    "find_test_folder",
    "list_test_sets",
    "test_set_label",
]

log = logging.getLogger(__name__)

DATA_ROOT_VARIABLE = "BARYIR_DATA"
"""The environment variable naming the data root when the config gives none."""


@dataclass(frozen=True)
class TestSetInfo:
    """A standard evaluation set.

    Attributes:
        name: canonical name.
        paired: True for input/target folders, False for clean images (needs a degradation).
        folders: candidate folders relative to the root, first match wins.
        task: the TASKS entry it evaluates (for paired sets).
    """

    name: str
    paired: bool
    folders: tuple[str, ...]
    task: str | None = None


TEST_SETS: dict[str, TestSetInfo] = {
    info.name: info
    for info in (
        TestSetInfo(
            "CBSD68",
            False,
            (
                "CBSD68",
                "test/denoise/bsd68",
                "test/denoise/cbsd68",
                "denoise/bsd68",
                "denoise/cbsd68",
                "BSD68",
            ),
        ),
        TestSetInfo("Kodak24", False, ("Kodak24", "test/denoise/kodak24", "denoise/kodak24")),
        TestSetInfo("McMaster", False, ("McMaster", "test/denoise/mcmaster", "denoise/mcmaster")),
        TestSetInfo("Urban100", False, ("Urban100", "test/denoise/urban100", "denoise/urban100")),
        TestSetInfo(
            "Rain100L", True, ("Rain100L", "test/derain/Rain100L", "derain/Rain100L"), "derain"
        ),
        TestSetInfo(
            "Rain100H", True, ("Rain100H", "test/derain/Rain100H", "derain/Rain100H"), "derain"
        ),
        TestSetInfo(
            "SOTS-outdoor",
            True,
            ("SOTS-outdoor", "SOTS/outdoor", "test/dehaze", "dehaze"),
            "dehaze",
        ),
        TestSetInfo("GoPro", True, ("GoPro", "GoPro/test", "test/deblur", "deblur"), "deblur"),
        TestSetInfo(
            "LOL-v1", True, ("LOL-v1", "LOL/eval15", "LOL", "test/lowlight", "lowlight"), "lowlight"
        ),
        # the folder found here, or its test/ (the one holding clear/): datasets/cdd11.py
        TestSetInfo("CDD11", True, ("CDD-11", "CDD11", "CDD_11", "test")),
    )
}

_ALIASES = {
    "bsd68": "CBSD68",
    "kodak": "Kodak24",
    "sots": "SOTS-outdoor",
    "lol": "LOL-v1",
    "cdd-11": "CDD11",
    "cdd_11": "CDD11",
}


def default_data_root() -> Path | None:
    """The data root when the config gives none: ``$BARYIR_DATA``, else None."""
    env = os.environ.get(DATA_ROOT_VARIABLE)
    return Path(env) if env else None


def list_test_sets() -> list[str]:
    """Names of the standard evaluation sets."""
    return list(TEST_SETS)


def _lookup(name: str) -> TestSetInfo:
    key = name.lower()
    for info in TEST_SETS.values():
        if info.name.lower() == key:
            return info
    if key in _ALIASES:
        return TEST_SETS[_ALIASES[key]]
    raise ValueError(
        f"unknown test set {name!r}; known: {', '.join(TEST_SETS)}, or a folder written as a "
        f"path (./{name})"
    )


def find_test_folder(info: TestSetInfo, root: str | Path) -> Path:
    """The folder of ``info`` under ``root`` (case-insensitive on each path part).

    Raises:
        FileNotFoundError: none of the candidate folders exists (lists them).
    """
    root = Path(root)
    for candidate in info.folders:
        path = root
        for part in candidate.split("/"):
            matches = (
                [p for p in path.iterdir() if p.name.lower() == part.lower()]
                if (path.is_dir())
                else []
            )
            if not matches:
                break
            path = matches[0]
        else:
            if path.is_dir():
                return path
    tried = ", ".join(str(root / c) for c in info.folders)
    raise FileNotFoundError(f"test set {info.name} not found under {root} (tried {tried})")


def _set_spec(name_or_spec: str) -> SetSpec:
    """The test set row of ``name_or_spec`` (:func:`baryir.specs.parse_row`); raises on a suite."""
    row = parse_row(name_or_spec)
    if not isinstance(row, SetSpec) or row.suite is not None:
        raise ValueError(
            f"{name_or_spec!r} names a suite, not a test set: give it as a row "
            "(baryir.data.suites.build_rows, data.test_sets, --sets)"
        )
    return row


def test_set_label(name_or_spec: str) -> str:
    """The one label of a test set spec, the row name in every table.

    ``"<set> <degradation spec>"`` for a clean set plus a degradation (``"CBSD68:25"`` ->
    ``"CBSD68 noise:25"``, ``"noise:25@/data/photos"`` -> ``"photos noise:25"``), the set's
    name for a paired set (``"rain100h"`` -> ``"Rain100H"``), the folder name for a folder, and
    a slice appended (``"Rain100H[70:100]"``).

    Example:
        >>> test_set_label("bsd68:50"), test_set_label("Kodak24[0:4]:jpeg:20")
        ('CBSD68 noise:50', 'Kodak24 jpeg:20[0:4]')
    """
    row = _set_spec(name_or_spec)
    suffix = subset_text(row.subset) if row.subset is not None else ""
    if row.folder:
        name = Path(row.source).name
        return f"{name} {row.arg}{suffix}" if row.arg else f"{name}{suffix}"
    name = row.source
    with contextlib.suppress(ValueError):  # a name not known yet: as written
        name = _lookup(name).name
    return f"{name} {row.arg}{suffix}" if row.arg else f"{name}{suffix}"


def build_test_set(
    name_or_spec: str,
    root: str | Path | None = None,
    seed: int = 0,
    max_images: int | None = None,
    crop: int | None = None,
) -> DegradationDataset:
    """Build an evaluation set; every item has ``"input"``, ``"target"``, ``"name"``.

    Args:
        name_or_spec: see the module docstring (``"CBSD68:25"``, ``"Rain100H"``, a path, ...).
        root: where named sets are searched (None: :func:`default_data_root`).
        seed: seed of the synthetic degradations (combined with the spec and file stem).
        max_images: keep the first ``max_images`` files (natural name order), e.g. for validation.
        crop: central crop side (None: whole images, the paper's protocol).

    The returned dataset's ``label`` is :func:`test_set_label` of the spec.
    """
    row = _set_spec(name_or_spec)
    degradation = row.arg
    if row.folder and degradation:
        dataset: DegradationDataset = SyntheticDataset.from_folder(
            row.source,
            degradation,
            patch_size=crop,
            train=False,
            seed=seed,
        )
    elif row.folder:
        dataset = PairedDataset.from_folder(row.source, patch_size=crop, train=False)
    else:
        info = _lookup(row.source)
        root = root if root is not None else default_data_root()
        if root is None:
            raise ValueError(
                f"test set {info.name} needs a data root: set {DATA_ROOT_VARIABLE}=/path/to/data "
                "or the config's root (data.test_root / data.root, a suite's root, data_root)"
            )
        folder = find_test_folder(info, root)
        task = TASKS[info.task] if info.task else None
        if info.name == "CDD11":
            if not degradation:
                raise ValueError(
                    "CDD11 needs a kind: CDD11:low_haze_rain, CDD11:all, ... (datasets/cdd11.py)"
                )
            dataset = cdd11_test_set(find_cdd11(folder, "test"), degradation, crop)
        elif info.paired:
            if degradation:
                raise ValueError(
                    f"{info.name} is a paired set; it takes no degradation ({name_or_spec!r})"
                )
            dataset = PairedDataset.from_folder(folder, task=task, patch_size=crop, train=False)
        else:
            if not degradation:
                raise ValueError(
                    f"{info.name} holds clean images: give a degradation, e.g. {info.name}:25 "
                    f"(noise sigma) or {info.name}:jpeg:20"
                )
            task = next((t for t in TASKS.values() if t.synthetic == degradation), None)
            dataset = SyntheticDataset.from_folder(
                folder,
                degradation,
                task=task,
                patch_size=crop,
                train=False,
                seed=seed,
            )
    if row.subset is not None:
        take_subset(dataset, row.subset, where=name_or_spec)
    dataset.label = test_set_label(name_or_spec)
    if max_images is not None:
        if max_images < 1:
            raise ValueError(f"max_images must be positive, got {max_images}")
        take_subset(dataset, slice(0, max_images), where=name_or_spec)
    return dataset
