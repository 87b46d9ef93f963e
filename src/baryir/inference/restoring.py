"""Restore images with a model: eval mode, no autograd, tiling and an out-of-memory fallback."""

from __future__ import annotations

import itertools
import logging

import torch
from torch import Tensor, nn

from baryir.inference.precision import Precision, autocast_for
from baryir.inference.tiling import tiled_forward

__all__ = ["FALLBACK_TILES", "MIN_TILE", "restore"]

log = logging.getLogger(__name__)

FALLBACK_TILES: tuple[int, ...] = (512, 256, 128, 64)
"""Tile sides tried, in order, when a full-image pass runs out of memory."""

MIN_TILE = 64
"""The smallest tile the out-of-memory fallback halves down to."""


def _restored(model: nn.Module, image: Tensor) -> Tensor:
    """``model(image).restored`` (or the output itself when the model returns a tensor), float32
    whatever precision the model computed in."""
    output = model(image)
    if isinstance(output, Tensor):
        return output.float()
    restored = getattr(output, "restored", None)
    if not isinstance(restored, Tensor):
        raise TypeError(
            f"restore: {type(model).__name__} returned {type(output).__name__}; expected a tensor "
            "or an output with a `restored` tensor"
        )
    return restored


def _model_device(model: nn.Module) -> torch.device | None:
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return first.device if first is not None else None


def _tile_schedule(tile: int | None, height: int, width: int) -> list[int | None]:
    """Tile sides to try in order; ``None`` is one full-image pass."""
    if tile is None:
        return [None, *(t for t in FALLBACK_TILES if t < max(height, width))]
    sizes: list[int | None] = [tile]
    while tile // 2 >= MIN_TILE:
        tile //= 2
        sizes.append(tile)
    return sizes


def restore(
    model: nn.Module,
    image: Tensor,
    tile: int | None = None,
    tile_overlap: int = 32,
    device: torch.device | str | None = None,
    precision: Precision = "fp32",
) -> Tensor:
    """Restore ``(3, H, W)`` or ``(B, 3, H, W)`` images in ``[0, 1]`` with ``model``.

    The model runs in eval mode (its previous mode is restored afterwards) under
    ``torch.inference_mode``; its output (``model(x).restored`` or a plain tensor) is clamped to
    ``[0, 1]``. With ``tile=None`` the whole image goes through at once; if that raises
    ``torch.OutOfMemoryError`` the image is tiled instead (sides 512, 256, 128, 64, with a
    logged warning). With a ``tile``, tiling is used from the start and the tile is halved down
    to 64 on out-of-memory. Tiles are blended smoothly (:func:`tiled_forward`).

    Args:
        model: a restoration network.
        image: ``(3, H, W)`` or ``(B, 3, H, W)`` float in ``[0, 1]``; may stay on the CPU while
            the model runs on a GPU (tiles are moved one at a time).
        tile: tile side in pixels, or ``None`` for a full-image pass.
        tile_overlap: overlap of neighbouring tiles (capped at half the tile).
        device: where the model runs; when given, the model is moved there. Default: the
            model's device (or the image's for a model without parameters).
        precision: ``"fp32"`` or ``"bf16"`` (autocast; on CPUs with AMX or AVX-512 BF16 and
            bf16-capable GPUs, elsewhere a warning and fp32: see
            :func:`~baryir.inference.precision.autocast_for`). The output is float32.

    Returns:
        The restored image, same shape as ``image``, on ``image``'s device.
    """
    if image.ndim not in (3, 4) or image.shape[-3] != 3:
        raise ValueError(f"restore: expected (3, H, W) or (B, 3, H, W), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"restore: expected a float image in [0, 1], got {image.dtype}")
    if (tile is not None and tile < 1) or tile_overlap < 0:
        raise ValueError(
            f"restore: need tile >= 1 and tile_overlap >= 0, got {tile}, {tile_overlap}"
        )
    batch = image if image.ndim == 4 else image.unsqueeze(0)
    if device is not None:
        model.to(device)
    run_device = (
        torch.device(device) if device is not None else _model_device(model) or batch.device
    )

    schedule = _tile_schedule(tile, *batch.shape[-2:])
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), autocast_for(precision, run_device):
            for index, size in enumerate(schedule):
                try:
                    if size is None:
                        restored = _restored(model, batch.to(run_device)).to(batch.device)
                    else:
                        overlap = min(tile_overlap, size // 2)
                        restored = tiled_forward(
                            lambda x: _restored(model, x), batch, size, overlap, device=run_device
                        )
                    break
                except torch.cuda.OutOfMemoryError:
                    if index == len(schedule) - 1:
                        raise
                # outside the except block, so the failed attempt's tensors are freed
                if run_device.type == "cuda":
                    torch.cuda.empty_cache()
                log.warning(
                    "restore: out of memory on %s at %s; retrying with %d-pixel tiles",
                    run_device,
                    "full size" if size is None else f"{size}-pixel tiles",
                    schedule[index + 1],
                )
    finally:
        model.train(was_training)
    restored = restored.clamp(0, 1)  # out of place: a normal tensor, not an inference tensor
    return restored if image.ndim == 4 else restored[0]
