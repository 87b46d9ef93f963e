"""A slice of a folder's files, written ``[start:stop]`` in a spec or a folder override
(parsed by :mod:`baryir.specs`).

``"Rain100H[0:70]"`` keeps pairs 1..70 of Rain100H and ``"Rain100H[70:100]"`` pairs 71..100: the
slice is taken over the files in natural (numeric-aware) name order, so ``100.png`` comes after
``99.png`` (plain sorting puts it after ``10.png``). Python slice rules apply (``[:20]``,
``[-10:]``). It works wherever a folder is named: test-set specs (``"CBSD68[0:10]:25"``,
``"noise:25@/data/clean[0:10]"``) and training folder overrides
(``folders={"derain": "/data/Rain100H[0:70]", "dehaze": "haze@/data/CBSD432"}``).

Example:
    >>> natural_key("img10") > natural_key("img9")
    True
"""

from __future__ import annotations

import re
from pathlib import Path

from baryir.data.datasets.base import DegradationDataset
from baryir.specs import subset_text

__all__ = ["natural_key", "take_subset"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key comparing digit runs as numbers: ``"2" < "10"``, ``"a2" < "a10"``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in _DIGITS.split(name)
        if part
    )


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
            raise ValueError(f"{what}: subset {subset_text(subset)} selects no pair")
        dataset.pairs = pairs
        dataset.image_count = len(pairs)
    elif hasattr(dataset, "images"):
        images = sorted(dataset.images, key=lambda image: natural_key(_stem(image)))[subset]
        if not images:
            raise ValueError(f"{what}: subset {subset_text(subset)} selects no image")
        dataset.images = images
        dataset.image_count = len(images)
    else:
        raise ValueError(f"{what}: {type(dataset).__name__} has no files to take a subset of")
    return dataset


def _stem(image: object) -> str:
    return image.stem if isinstance(image, Path) else str(getattr(image, "name", image))
