"""Inference helpers: full-image restoration with tiled fallback, fp32 or native bf16.

:func:`restore` lives in :mod:`baryir.inference.restoring` (a module name of its own, so that
``baryir.inference.restore`` is always the function).
"""

from baryir.inference.precision import (
    Precision,
    autocast_for,
    describe_precision,
    native_bf16,
    resolve_precision,
)
from baryir.inference.restoring import FALLBACK_TILES, MIN_TILE, restore
from baryir.inference.tiling import blend_ramp, tile_starts, tiled_forward

__all__ = [
    "FALLBACK_TILES",
    "MIN_TILE",
    "Precision",
    "autocast_for",
    "blend_ramp",
    "describe_precision",
    "native_bf16",
    "resolve_precision",
    "restore",
    "tile_starts",
    "tiled_forward",
]
