"""Tiled inference with smooth blending, for images too large for one forward pass."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["blend_ramp", "tile_starts", "tiled_forward"]


def tile_starts(size: int, tile: int, stride: int) -> list[int]:
    """Start offsets of tiles of length ``tile`` covering ``[0, size)`` every ``stride`` pixels.

    The last tile is shifted inward to end exactly at ``size`` (no padding); a side no longer
    than ``tile`` gets a single tile at 0.
    """
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, stride))
    return [*starts, size - tile]


def blend_ramp(length: int, overlap: int, ramp_start: bool, ramp_end: bool) -> Tensor:
    """1-D blending weights ``(length,)``: 1 inside, a raised-cosine ramp over ``overlap`` pixels.

    Ramps are only put on sides that border another tile (``ramp_start``/``ramp_end``), so
    weights at the image border stay 1. The ramp ``sin^2(pi/2 * (i + 0.5) / overlap)`` is strictly
    positive (every pixel of a tile counts) and, where two tiles overlap by exactly ``overlap``,
    the rising and falling ramps add up to 1.
    """
    weights = torch.ones(length, dtype=torch.float32)
    n = min(overlap, length // 2)
    if n > 0:
        steps = (torch.arange(n, dtype=torch.float32) + 0.5) / n
        ramp = torch.sin(0.5 * math.pi * steps) ** 2
        if ramp_start:
            weights[:n] = ramp
        if ramp_end:
            weights[length - n :] = ramp.flip(0)
    return weights


def tiled_forward(
    fn: Callable[[Tensor], Tensor],
    image: Tensor,
    tile: int,
    overlap: int,
    device: torch.device | str | None = None,
) -> Tensor:
    """Apply ``fn`` to overlapping tiles of ``image`` and blend the outputs.

    Memory stays bounded: the output is accumulated tile by tile into one output buffer and one
    weight buffer on ``image``'s device; only one tile at a time goes through ``fn``, on
    ``device`` (default: ``image``'s device), under ``torch.inference_mode``.

    Args:
        fn: maps a ``(B, C, h, w)`` tile to a ``(B, C', h, w)`` output (same spatial size).
        image: ``(B, C, H, W)``.
        tile: tile side in pixels; sides no longer than ``tile`` are not split.
        overlap: pixels shared by neighbouring tiles, ``0 <= overlap < tile``; the blending ramp
            spans ``overlap`` pixels.
        device: where ``fn`` runs.

    Returns:
        ``(B, C', H, W)`` on ``image``'s device, in ``fn``'s output dtype (an inference tensor:
        clone it outside ``inference_mode`` before using it in autograd).
    """
    if image.ndim != 4:
        raise ValueError(f"tiled_forward: expected (B, C, H, W), got {tuple(image.shape)}")
    if tile < 1 or not 0 <= overlap < tile:
        raise ValueError(
            f"tiled_forward: need tile >= 1 and 0 <= overlap < tile, got {tile}, {overlap}"
        )
    device = torch.device(device) if device is not None else image.device
    height, width = image.shape[-2:]
    rows = tile_starts(height, tile, tile - overlap)
    cols = tile_starts(width, tile, tile - overlap)
    tile_h, tile_w = min(tile, height), min(tile, width)

    output = torch.empty(0)  # allocated at the first tile, once fn's output channels are known
    out_dtype = image.dtype
    weight = torch.zeros(1, 1, height, width, dtype=torch.float32, device=image.device)
    with torch.inference_mode():
        for top in rows:
            w_rows = blend_ramp(tile_h, overlap, top > 0, top + tile_h < height)
            for left in cols:
                w_cols = blend_ramp(tile_w, overlap, left > 0, left + tile_w < width)
                patch = image[..., top : top + tile_h, left : left + tile_w].to(device)
                result = fn(patch)
                if result.shape[0] != image.shape[0] or result.shape[-2:] != patch.shape[-2:]:
                    raise ValueError(
                        f"tiled_forward: fn mapped a tile {tuple(patch.shape)} to "
                        f"{tuple(result.shape)}; the batch and spatial size must be kept"
                    )
                if output.numel() == 0:
                    acc_dtype = torch.promote_types(result.dtype, torch.float32)
                    output = torch.zeros(
                        (image.shape[0], result.shape[1], height, width),
                        dtype=acc_dtype,
                        device=image.device,
                    )
                tile_weight = (w_rows[:, None] * w_cols[None, :]).to(image.device)
                output[..., top : top + tile_h, left : left + tile_w] += (
                    result.to(image.device, output.dtype) * tile_weight
                )
                weight[..., top : top + tile_h, left : left + tile_w] += tile_weight
                out_dtype = result.dtype
        return output.div_(weight).to(out_dtype)
