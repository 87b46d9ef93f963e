"""The default training data when no folder is given: colour photos shipped with scikit-image.

Only images inside the scikit-image wheel are used (no pooch download). The split is fixed:
``BUNDLED_TRAIN`` (astronaut, rocket, motorcycle_left, motorcycle_right) and ``BUNDLED_VAL``
(chelsea, coffee). Every task is synthesised from them (``TaskInfo.synthetic``: Gaussian noise
sigma 15/25/50, synthetic rain, haze, motion blur, low light).

This is a smoke-test/quick-start dataset: 4 training photos cannot train a useful model.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import torch

from baryir.data.datasets.synthetic import InMemoryImage, SyntheticSource
from baryir.data.tasks import TaskInfo
from baryir.data.transforms import SmallImagePolicy

__all__ = ["BUNDLED_TRAIN", "BUNDLED_VAL", "bundled_images", "bundled_source"]

BUNDLED_TRAIN: tuple[str, ...] = ("astronaut", "rocket", "motorcycle_left", "motorcycle_right")
BUNDLED_VAL: tuple[str, ...] = ("chelsea", "coffee")


def _load(name: str) -> np.ndarray:
    from skimage import data

    if name == "motorcycle_left":
        return data.stereo_motorcycle()[0]
    if name == "motorcycle_right":
        return data.stereo_motorcycle()[1]
    return getattr(data, name)()


@cache
def _pixels(name: str) -> torch.Tensor:
    array = _load(name)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"bundled image {name!r} is not an RGB uint8 photo: {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float().div(255)


def bundled_images(split: str = "train") -> list[InMemoryImage]:
    """The bundled photos of ``split`` (``"train"`` or ``"val"``), ``(3, H, W)`` float in [0, 1]."""
    if split not in ("train", "val"):
        raise ValueError(f"bundled split must be 'train' or 'val', got {split!r}")
    names: Sequence[str] = BUNDLED_TRAIN if split == "train" else BUNDLED_VAL
    return [InMemoryImage(name, _pixels(name)) for name in names]


def bundled_source(
    task: TaskInfo,
    split: str = "train",
    length: int | None = None,
    patch_size: int | None = 128,
    seed: int = 0,
    small: SmallImagePolicy = "pad",
) -> SyntheticSource:
    """``task`` synthesised on the bundled photos.

    Args:
        task: the task; its ``synthetic`` spec is the degradation.
        split: ``"train"`` (random crops and degradations) or ``"val"`` (deterministic,
            seeded per image name + degradation; central ``patch_size`` crop when given).
        length: number of items (cycling over the images); default one per image.
        patch_size: training crop / validation central crop (None: whole image).
        seed: validation seed.
        small: small-image policy (unused by the bundled photos, all >= 300 px).
    """
    images = bundled_images(split)
    if length is not None:
        if length < 1:
            raise ValueError(f"bundled source length must be positive, got {length}")
        images = [images[i % len(images)] for i in range(length)]
    return SyntheticSource(
        images,
        task.synthetic,
        degradation_id=task.fine_id,
        source_id=task.source,
        patch_size=patch_size,
        train=split == "train",
        seed=seed,
        small=small,
        label=f"bundled {task.name}" if split == "train" else f"bundled-val {task.name}",
        task=task.name,
    )
