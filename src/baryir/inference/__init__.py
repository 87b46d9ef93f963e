"""Inference helpers: full-image restoration with tiled fallback."""

from baryir.inference.restore import FALLBACK_TILES, MIN_TILE, restore
from baryir.inference.tiling import blend_ramp, tile_starts, tiled_forward

__all__ = ["FALLBACK_TILES", "MIN_TILE", "blend_ramp", "restore", "tile_starts", "tiled_forward"]
