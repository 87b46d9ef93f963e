"""What every restoration network of :mod:`baryir.models` returns."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

__all__ = ["RestorationOutput"]


class RestorationOutput(NamedTuple):
    """Outputs of a restoration network.

    Attributes:
        restored: restored image ``(B, 3, H, W)`` (input size, not clamped).
        source_latent: bottleneck features ``z`` ``(B, C_lat, H'/8, W'/8)`` at the padded size.
        barycenter: barycenter embedding ``b`` (same shape as ``z``), ``None`` for baselines.
        residual: degradation residual ``r = z - b``, ``None`` for baselines.
    """

    restored: Tensor
    source_latent: Tensor
    barycenter: Tensor | None = None
    residual: Tensor | None = None
