"""The default training data when no folder is given: colour photos shipped with scikit-image.

Every colour photograph inside the scikit-image wheel is used (no pooch download; the
synthetic charts ``color``, ``phantom`` and ``chessboard_RGB`` and the RGBA drawings are
left out). The split is fixed: ``BUNDLED_TRAIN`` (astronaut, rocket, motorcycle_left,
motorcycle_right, hubble_deep_field, immunohistochemistry, retina: people, objects, a street
scene, a star field, a microscopy slide and a fundus photo, 0.25-2 Mpx each) and
``BUNDLED_VAL`` (chelsea, coffee). Every task is synthesised from them
(``DegradationTask.synthetic``: Gaussian noise sigma 15/25/50, synthetic rain, haze, motion
blur, low light, clean) with random crops, the eight dihedral transforms and fresh degradations
each epoch; :func:`bundled_eval_dataset` degrades the validation photos with any spec (the "do no
harm" rows: clean, noise:5, jpeg:40).

Seven photos train a model that restores the quickstart's degradations in a few CPU minutes;
they are no substitute for a real training set (``train/CBSD432``, the paper's layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import torch

from baryir.data.datasets.synthetic import InMemoryImage, SyntheticDataset
from baryir.data.degradation_tasks import DegradationTask
from baryir.data.transforms import SmallImagePolicy

__all__ = [
    "BUNDLED_TRAIN",
    "BUNDLED_VAL",
    "bundled_eval_dataset",
    "bundled_images",
    "bundled_dataset",
]

BUNDLED_TRAIN: tuple[str, ...] = (
    "astronaut",
    "rocket",
    "motorcycle_left",
    "motorcycle_right",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
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


def bundled_dataset(
    task: DegradationTask,
    split: str = "train",
    length: int | None = None,
    patch_size: int | None = 128,
    seed: int = 0,
    small: SmallImagePolicy = "pad",
) -> SyntheticDataset:
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
    return SyntheticDataset(
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


def bundled_eval_dataset(spec: str, crop: int | None = 256, seed: int = 0) -> SyntheticDataset:
    """The bundled validation photos under the degradation ``spec`` (e.g. ``"clean"``).

    Deterministic (seeded per image name and spec); labelled ``"bundled-val {spec}"``.
    """
    return SyntheticDataset(
        bundled_images("val"),
        spec,
        patch_size=crop,
        train=False,
        seed=seed,
        label=f"bundled-val {spec}",
    )
