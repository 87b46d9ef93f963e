"""Inference helpers: full-image restoration with tiled fallback, fp32 or native bf16."""

from baryir.inference.precision import Precision, autocast_for, native_bf16
from baryir.inference.restore import FALLBACK_TILES, MIN_TILE, restore
from baryir.inference.tiling import blend_ramp, tile_starts, tiled_forward

__all__ = [
    "FALLBACK_TILES",
    "MIN_TILE",
    "Precision",
    "autocast_for",
    "blend_ramp",
    "native_bf16",
    "restore",
    "tile_starts",
    "tiled_forward",
]
