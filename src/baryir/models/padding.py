"""Pad images to a multiple of the network stride and crop the result back."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["crop_to", "pad_to_multiple"]


def pad_to_multiple(x: Tensor, multiple: int = 8) -> tuple[Tensor, tuple[int, int]]:
    """Pad ``x`` at the bottom/right so that ``H`` and ``W`` are multiples of ``multiple``.

    Uses reflect padding, or replicate padding when a side is too small to reflect.

    Args:
        x: images ``(B, C, H, W)``.
        multiple: the stride to reach.

    Returns:
        the padded images ``(B, C, H', W')`` and the original size ``(H, W)``.
    """
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (h, w)
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def crop_to(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Crop ``(..., H', W')`` to its top-left ``(..., H, W)`` with ``size = (H, W)``."""
    return x[..., : size[0], : size[1]]
