"""A slice of a folder's files, written ``[start:stop]`` in a spec or a folder override.

``"Rain100H[0:70]"`` keeps pairs 1..70 of Rain100H and ``"Rain100H[70:100]"`` pairs 71..100: the
slice is taken over the files in natural (numeric-aware) name order, so ``100.png`` comes after
``99.png`` (plain sorting puts it after ``10.png``). Python slice rules apply (``[:20]``,
``[-10:]``). It works wherever a folder is named: test-set specs (``"CBSD68[0:10]:25"``,
``"noise:25@/data/clean[0:10]"``) and training folder overrides
(``folders={"derain": "/data/Rain100H[0:70]", "dehaze": "haze@/data/CBSD432"}``).

Example:
    >>> split_subset("Rain100H[70:100]")
    ('Rain100H', slice(70, 100, None))
    >>> natural_key("img10") > natural_key("img9")
    True
"""

from __future__ import annotations

import re
from pathlib import Path

from baryir.data.datasets.base import DegradationDataset

__all__ = ["natural_key", "split_folder_override", "split_subset", "subset_label", "take_subset"]

_SUBSET = re.compile(r"\[(-?\d*):(-?\d*)\]")
_DIGITS = re.compile(r"(\d+)")


def split_subset(spec: str) -> tuple[str, slice | None]:
    """Remove one ``[start:stop]`` from ``spec``; returns ``(spec without it, slice or None)``."""
    matches = list(_SUBSET.finditer(spec))
    if not matches:
        return spec, None
    if len(matches) > 1:
        raise ValueError(f"more than one [start:stop] subset in {spec!r}")
    match = matches[0]
    start, stop = (int(g) if g else None for g in match.groups())
    return spec[: match.start()] + spec[match.end() :], slice(start, stop)


def subset_label(subset: slice) -> str:
    """``slice(70, 100)`` -> ``"[70:100]"``."""
    start = "" if subset.start is None else subset.start
    stop = "" if subset.stop is None else subset.stop
    return f"[{start}:{stop}]"


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key comparing digit runs as numbers: ``"2" < "10"``, ``"a2" < "a10"``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in _DIGITS.split(name)
        if part
    )


def split_folder_override(value: str) -> tuple[str | None, Path, slice | None]:
    """``"haze@/data/clean[0:100]"`` -> ``("haze", Path("/data/clean"), slice(0, 100))``.

    The part before ``@`` (optional) is a degradation spec applied to the clean images of the
    folder; without it the folder is used as the task normally uses it (clean images for
    noise, input/target pairs otherwise).
    """
    value, subset = split_subset(value)
    degradation, at, folder = value.rpartition("@")
    if at and not degradation.strip():
        raise ValueError(f"folder override {value!r}: empty degradation before '@'")
    return (degradation.strip() or None), Path(folder), subset


def take_subset(dataset: DegradationDataset, subset: slice, where: str = "") -> DegradationDataset:
    """Keep ``subset`` of the dataset's files in natural name order (in place; returns it).

    Works on datasets holding ``pairs`` (input/target paths) or ``images`` (paths or in-memory
    images with a ``name``).

    Raises:
        ValueError: the slice selects nothing.
    """
    what = where or getattr(dataset, "label", "dataset")
    if hasattr(dataset, "pairs"):
        pairs = sorted(dataset.pairs, key=lambda pair: natural_key(pair[0].stem))[subset]
        if not pairs:
            raise ValueError(f"{what}: subset {subset_label(subset)} selects no pair")
        dataset.pairs = pairs
        dataset.image_count = len(pairs)
    elif hasattr(dataset, "images"):
        images = sorted(dataset.images, key=lambda image: natural_key(_stem(image)))[subset]
        if not images:
            raise ValueError(f"{what}: subset {subset_label(subset)} selects no image")
        dataset.images = images
        dataset.image_count = len(images)
    else:
        raise ValueError(f"{what}: {type(dataset).__name__} has no files to take a subset of")
    return dataset


def _stem(image: object) -> str:
    return image.stem if isinstance(image, Path) else str(getattr(image, "name", image))
