"""Paired geometric augmentation on tensors: the same crop and dihedral mode for every image.

Images smaller than the patch are made large enough first, by one of two documented policies:

- ``"pad"`` (default): reflect-pad bottom/right up to the patch size (replicate padding where
  the image is too small for reflection). Keeps the pixel statistics (noise level, blur scale).
- ``"upscale"``: bicubic-resize so the short side equals the patch size (aspect kept). Changes
  the degradation's scale; use it only for clean images before a synthetic degradation.

Pure torch (views, ``rot90``/``flip``, one copy of the patch). Measured on a 481x321 float
pair, one thread: 0.4-0.9 ms here against 13-20 ms for the albumentations equivalent
(``PadIfNeeded + RandomCrop + D4`` with ``additional_targets``), which copies whole HWC arrays.

Example:
    >>> crop = PairedRandomCrop(64)
    >>> x, y = crop(torch.rand(3, 100, 80), torch.rand(3, 100, 80))
    >>> x.shape
    torch.Size([3, 64, 64])
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "PairedRandomCrop",
    "center_crop",
    "dihedral",
    "ensure_min_size",
    "random_dihedral",
    "random_flat_contrast",
]

SmallImagePolicy = Literal["pad", "upscale"]


def dihedral(image: Tensor, mode: int) -> Tensor:
    """Apply one of the 8 dihedral transforms to ``(..., H, W)``.

    ``mode`` in 0..7: ``mode % 4`` quarter turns (counter-clockwise), then a vertical flip when
    ``mode >= 4``. Mode 0 is the identity.
    """
    if not 0 <= mode < 8:
        raise ValueError(f"dihedral mode must be in 0..7, got {mode}")
    out = torch.rot90(image, mode % 4, dims=(-2, -1)) if mode % 4 else image
    return out.flip(-2) if mode >= 4 else out


def random_dihedral(
    *images: Tensor, generator: torch.Generator | None = None
) -> tuple[Tensor, ...]:
    """The same random dihedral mode (uniform over 8) applied to every image."""
    mode = int(torch.randint(8, (1,), generator=generator))
    return tuple(dihedral(image, mode) for image in images)


def ensure_min_size(image: Tensor, size: int, policy: SmallImagePolicy = "pad") -> Tensor:
    """Make ``(C, H, W)`` at least ``size`` on both sides (see the module docstring)."""
    height, width = image.shape[-2:]
    if height >= size and width >= size:
        return image
    if policy == "upscale":
        scale = size / min(height, width)
        new = (max(size, round(height * scale)), max(size, round(width * scale)))
        out = F.interpolate(image[None], size=new, mode="bicubic", align_corners=False)
        return out[0].clamp(0, 1)
    if policy != "pad":
        raise ValueError(f"small-image policy must be 'pad' or 'upscale', got {policy!r}")
    pad_h, pad_w = max(0, size - height), max(0, size - width)
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(image[None], (0, pad_w, 0, pad_h), mode=mode)[0]


def center_crop(image: Tensor, size: int) -> Tensor:
    """Central ``size x size`` crop of ``(C, H, W)`` (sides shorter than ``size`` are kept)."""
    height, width = image.shape[-2:]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return image[..., top : top + size, left : left + size]


class PairedRandomCrop:
    """Random ``size x size`` crop plus a random dihedral mode, identical for all images.

    A crop in which one of the images is all black (exact zeros, e.g. the background of
    ``astronaut`` as a clean or low-light input) is drawn again, up to ``BLACK_RETRIES`` times:
    on an all-zero input every feature of a bias-free Restormer is exactly zero, each layer
    norm then scales its gradient by ``1/sqrt(eps)`` and the step's gradient overflows.

    Args:
        size: patch side in pixels.
        dihedral: apply one of the 8 flip/rotation modes.
        small: policy for images smaller than ``size``: ``"pad"`` or ``"upscale"``.
    """

    BLACK_RETRIES = 10

    def __init__(self, size: int, dihedral: bool = True, small: SmallImagePolicy = "pad") -> None:
        if size < 1:
            raise ValueError(f"patch size must be positive, got {size}")
        if small not in ("pad", "upscale"):
            raise ValueError(f"small-image policy must be 'pad' or 'upscale', got {small!r}")
        self.size = size
        self.dihedral = dihedral
        self.small = small

    def __call__(
        self, *images: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, ...]:
        """Crop ``(C, H, W)`` images of equal size; returns contiguous ``(C, size, size)``."""
        shape = images[0].shape[-2:]
        if any(image.shape[-2:] != shape for image in images):
            sizes = ", ".join(str(tuple(image.shape[-2:])) for image in images)
            raise ValueError(f"paired images differ in size: {sizes}")
        images = tuple(ensure_min_size(image, self.size, self.small) for image in images)
        height, width = images[0].shape[-2:]
        for _ in range(self.BLACK_RETRIES + 1):
            top = int(torch.randint(height - self.size + 1, (1,), generator=generator))
            left = int(torch.randint(width - self.size + 1, (1,), generator=generator))
            out = tuple(
                image[..., top : top + self.size, left : left + self.size] for image in images
            )
            if all(bool(image.any()) for image in out):
                break
        if self.dihedral:
            out = random_dihedral(*out, generator=generator)
        return tuple(image.contiguous() for image in out)


def random_flat_contrast(
    image: Tensor,
    probability: float,
    contrast: tuple[float, float] = (0.3, 1.0),
    brightness: tuple[float, float] = (-0.2, 0.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    """With ``probability``, lower the contrast of a clean ``(C, H, W)`` patch and shift it.

    ``x' = clamp(m + c (x - m) + b, 0, 1)`` with ``m`` the patch mean, ``c ~ U(contrast)`` and
    ``b ~ U(brightness)``: flat clean content (a grey wall, an overcast scene, a dim room).
    Applied to the clean image before its synthetic degradation, it teaches a model that low
    contrast alone is not haze, so clean flat photos come out unchanged. The shift only darkens
    by default: haze brightens towards its airlight, and a brighter flat patch would teach the
    model to leave haze in place.
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"flat-contrast probability must be in [0, 1], got {probability}")
    if probability == 0.0 or float(torch.rand((), generator=generator)) >= probability:
        return image
    c_lo, c_hi = contrast
    b_lo, b_hi = brightness
    c = c_lo + (c_hi - c_lo) * float(torch.rand((), generator=generator))
    b = b_lo + (b_hi - b_lo) * float(torch.rand((), generator=generator))
    mean = image.mean()
    return (mean + c * (image - mean) + b).clamp(0.0, 1.0)
