"""Restore an image file into a PNG that mirrors it: colour type, alpha and bit depth.

The network always sees RGB in ``[0, 1]`` (:func:`baryir.io.image.read_image`: EXIF orientation
applied, so outputs are upright); what is written mirrors the input:

- Colour (RGB, palette, CMYK, ...) -> RGB PNG.
- Grayscale (``1``, ``L``, ``I;16``, ``I``, ``F``) -> grayscale PNG holding the luminance of the
  restored RGB, ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601 full range, what Pillow's
  ``convert("L")`` computes).
- With alpha (``RGBA``, ``LA``, ``PA``, a ``transparency`` entry) -> the same plus the input's
  alpha channel, unchanged (:func:`baryir.io.alpha.read_alpha`): RGBA or gray+alpha PNG.

Bit depth: an input storing more than 8 bits per sample (16-bit PNG/TIFF, 32-bit integer or
float grayscale) gives a 16-bit PNG; everything else (8-bit, 1-bit, palette, JPEG) an 8-bit PNG.
Values are rounded to the nearest level; writes are atomic (:func:`baryir.io.image.write_image`).
Used by ``baryir restore``, ``baryir suite`` (real photos) and the app.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from baryir.inference import Precision, restore
from baryir.io.alpha import read_alpha
from baryir.io.image import MAX_IMAGE_PIXELS, read_image, read_image_info, write_image

__all__ = ["GRAY_MODES", "LUMA_WEIGHTS", "luminance", "restore_file"]

GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
"""Pillow modes written back as grayscale."""

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""BT.601 full-range luminance weights used for grayscale outputs."""


def luminance(image: Tensor) -> Tensor:
    """BT.601 luminance ``(1, H, W)`` of an RGB image ``(3, H, W)`` in ``[0, 1]``."""
    weights = image.new_tensor(LUMA_WEIGHTS).view(3, 1, 1)
    return (image * weights).sum(dim=0, keepdim=True)


def restore_file(
    model: nn.Module,
    path: Path,
    target: Path,
    tile: int | None = None,
    tile_overlap: int = 32,
    device: torch.device | str | None = None,
    precision: Precision = "fp32",
    max_pixels: int | None = MAX_IMAGE_PIXELS,
) -> tuple[int, int]:
    """Restore the image file ``path`` into the PNG ``target`` (see the module docstring);
    an image whose header declares more than ``max_pixels`` pixels is refused undecoded.

    Returns:
        ``(width, height)`` of the image. Raises :class:`~baryir.io.image.ImageReadError` if it
        cannot be read.
    """
    info = read_image_info(path)
    image = read_image(path, max_pixels)
    alpha = read_alpha(path)
    bit_depth = 16 if info.bit_depth > 8 else 8
    restored = restore(
        model, image, tile=tile, tile_overlap=tile_overlap, device=device, precision=precision
    ).cpu()
    del image
    if info.mode in GRAY_MODES:
        restored = luminance(restored)
    write_image(target, restored, bit_depth=bit_depth, alpha=alpha)
    return restored.shape[-1], restored.shape[-2]
