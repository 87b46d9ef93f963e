"""Clean images plus a synthetic degradation applied on the fly (denoising, synthetic rain/haze).

Training items take a random crop + dihedral mode of the clean image, then degrade the patch with
the global torch RNG (different per worker and epoch, reproducible under
``lightning.seed_everything(seed, workers=True)``). Evaluation items (``train=False``) use the
whole image (or a central crop) and a generator seeded by ``(seed, degradation spec, file stem)``
through ``baryir.degradations.generator_for``: the noisy image depends on the file name, never on
its position in the folder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.files import check_headers, report_skipped
from baryir.data.degradation_tasks import DegradationTask
from baryir.data.transforms import (
    PairedRandomCrop,
    SmallImagePolicy,
    center_crop,
    random_flat_contrast,
)
from baryir.degradations import build_degradation, generator_for
from baryir.io.image import list_images, read_image

__all__ = ["InMemoryImage", "SyntheticDataset"]

log = logging.getLogger(__name__)


class InMemoryImage(NamedTuple):
    """An image held in memory: ``pixels`` is ``(3, H, W)`` uint8 or float in [0, 1]."""

    name: str
    pixels: Tensor


def _as_float(pixels: Tensor) -> Tensor:
    return pixels.float().div(255) if pixels.dtype == torch.uint8 else pixels.float()


class SyntheticDataset(DegradationDataset):
    """Clean images degraded on the fly by ``build_degradation(spec)``.

    Args:
        images: image files, or ``InMemoryImage`` entries (e.g. the bundled skimage photos).
        degradation: degradation spec, e.g. ``"noise:25"``, ``"rain"``, ``"haze"``.
        degradation_id: fine id written in every item.
        source_id: source index written in every item.
        patch_size: training crop side; in evaluation an optional central crop (None: whole).
        train: random crop/flip/degradation when True, deterministic otherwise.
        seed: evaluation seed (combined with the spec and the file stem).
        small: policy for images smaller than the patch (``"pad"`` or ``"upscale"``).
        label: display name (default: the spec).
        task: task name, for summaries.
        flat_contrast: probability that a training patch gets a lower contrast and a brightness
            shift before its degradation (:func:`~baryir.data.transforms.random_flat_contrast`).
    """

    def __init__(
        self,
        images: Sequence[Path | InMemoryImage],
        degradation: str,
        degradation_id: int = -1,
        source_id: int = -1,
        patch_size: int | None = 128,
        train: bool = True,
        seed: int = 0,
        small: SmallImagePolicy = "pad",
        label: str | None = None,
        task: str | None = None,
        flat_contrast: float = 0.0,
    ) -> None:
        if not images:
            raise ValueError(f"SyntheticDataset {label or degradation!r} got no images")
        if train and patch_size is None:
            raise ValueError("a training source needs a patch_size")
        self.images = [
            InMemoryImage(image.name, _as_float(image.pixels))
            if isinstance(image, InMemoryImage)
            else image
            for image in images
        ]
        self.spec = degradation
        self.degradation = build_degradation(degradation)
        self.degradation_id = degradation_id
        self.source_id = source_id
        self.patch_size = patch_size
        self.train = train
        self.seed = seed
        self.label = label or degradation
        self.task = task
        self.image_count = len(
            {image.name if isinstance(image, InMemoryImage) else image for image in self.images}
        )
        self.crop = PairedRandomCrop(patch_size, small=small) if train and patch_size else None
        self.flat_contrast = flat_contrast

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        degradation: str,
        task: DegradationTask | None = None,
        patch_size: int | None = 128,
        train: bool = True,
        seed: int = 0,
        small: SmallImagePolicy = "pad",
        label: str | None = None,
        recursive: bool = True,
    ) -> SyntheticDataset:
        """All images under ``folder`` (sorted); unreadable headers are skipped with a WARNING.

        Raises:
            FileNotFoundError: missing folder. ValueError: no readable image in it.
        """
        files = list_images(folder, recursive=recursive, allow_empty=False)
        sizes, problems = check_headers(files)
        report_skipped("unreadable images", problems, folder)
        if not sizes:
            raise ValueError(f"no readable image in {folder} ({len(problems)} unreadable)")
        if patch_size:
            small_count = sum(min(size) < patch_size for size in sizes.values())
            if small_count:
                log.info(
                    "%s: %d images smaller than %d px (%s)", folder, small_count, patch_size, small
                )
        return cls(
            list(sizes),
            degradation,
            degradation_id=task.fine_id if task else -1,
            source_id=task.source if task else -1,
            patch_size=patch_size,
            train=train,
            seed=seed,
            small=small,
            label=label,
            task=task.name if task else None,
        )

    def __len__(self) -> int:
        return len(self.images)

    def name(self, index: int) -> str:
        """File stem (or in-memory name) of image ``index``."""
        image = self.images[index]
        return image.name if isinstance(image, InMemoryImage) else image.stem

    def load(self, index: int) -> dict[str, Any]:
        image = self.images[index]
        clean = image.pixels if isinstance(image, InMemoryImage) else read_image(image)
        name = self.name(index)
        if self.crop is not None:
            (clean,) = self.crop(clean)
            clean = random_flat_contrast(clean, self.flat_contrast)
            degraded = self.degradation(clean)
        else:
            if self.patch_size:
                clean = center_crop(clean, self.patch_size).contiguous()
            degraded = self.degradation(clean, generator_for(f"{self.spec}/{name}", self.seed))
        return {
            "input": degraded,
            "target": clean,
            "degradation": self.degradation_id,
            "source": self.source_id,
            "name": name,
        }
