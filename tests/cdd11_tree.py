"""A miniature CDD-11 tree for the tests: ``{train,test}/{clear,<kind>}/<name>.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from baryir.data.degradation_tasks import CDD11_KINDS


def png(path: Path, seed: int, size: int = 24) -> None:
    """A random RGB ``size x size`` PNG at ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path)


def make_cdd11(root: Path, train: int = 2, test: int = 1) -> Path:
    """``train`` and ``test`` pairs per kind under ``root``, matched by name with ``clear/``."""
    for split, count in (("train", train), ("test", test)):
        for i in range(count):
            png(root / split / "clear" / f"{split}{i}.png", i)
            for k, kind in enumerate(CDD11_KINDS):
                png(root / split / kind / f"{split}{i}.png", 100 * (k + 1) + i)
    return root
