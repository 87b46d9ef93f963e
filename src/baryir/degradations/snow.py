"""Falling snow: three layers of soft round flakes (far, middle, near), screen-blended on top.

albumentations' ``RandomSnow`` is not used: in version 2.0 its ``"texture"`` method adds the
snow layer to all three HSV channels and wraps the hue (faces turn green), and its ``"bleach"``
method is a fixed lightness threshold with no randomness. These flakes are drawn with the
``generator`` like every other torch degradation of this package, batched, on any device.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from baryir.degradations.base import (
    Degradation,
    ParamRange,
    as_range,
    rand,
    range_params,
    uniform,
    view4,
)
from baryir.degradations.blur import correlate_valid_fft
from baryir.degradations.registry import register_degradation

__all__ = ["SNOW_LAYERS", "Snowfall"]

# (Gaussian sigma in pixels, flakes per pixel at amount 1, peak brightness) of each layer:
# many small far flakes, fewer middle ones, a few large soft ones close to the lens.
SNOW_LAYERS: tuple[tuple[float, float, float], ...] = (
    (0.7, 0.02, 1.0),
    (1.3, 0.004, 1.0),
    (2.5, 0.0008, 0.8),
)


def _flake_kernel(sigma: float) -> Tensor:
    """A peak-1 Gaussian blob ``(k, k)``, ``k = 2 ceil(3 sigma) + 1``."""
    radius = math.ceil(3 * sigma)
    coords = torch.arange(-radius, radius + 1, dtype=torch.float64)
    return torch.exp(-(coords[:, None] ** 2 + coords[None, :] ** 2) / (2 * sigma**2))


@register_degradation("snow", argument="amount")
class Snowfall(Degradation):
    """Falling snow in the style of Snow100K and CDD-11: soft white flakes of three sizes.

    Per image and layer (``SNOW_LAYERS``), a uniform field ``u`` seeds a flake where
    ``u < amount x density``, with brightness ``0.5..1`` (``u / (amount x density)`` is again
    uniform); the seeds are spread by the layer's peak-1 Gaussian and scaled by its peak
    brightness times ``0.6 + 0.4 amount``, and the white layers ``S`` are screen-blended,
    ``x + S (1 - x)`` (so ``amount = 0`` is exactly the identity). Seeds are drawn on a field
    larger than the image by the blob radius, so flakes enter from outside the frame; the blobs
    are spread by FFT correlation.
    ``amount`` is allowed in 0..1 (default 0.2..0.6), drawn per image from a range.

    Example:
        >>> snowy = Snowfall(0.5)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    def __init__(self, amount: ParamRange = (0.2, 0.6)) -> None:
        self.amount = as_range(amount, "Snowfall amount", 0.0, 1.0)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {"amount": uniform(self.amount, batch, generator, like)}

    def snow_layer(
        self, image: Tensor, amount: Tensor, generator: torch.Generator | None
    ) -> Tensor:
        """The white snow layer ``S`` ``(B, 1, H, W)`` in [0, 1] for ``amount`` ``(B,)``."""
        b, _, h, w = image.shape
        snow = image.new_zeros(b, 1, h, w)
        for sigma, density, brightness in SNOW_LAYERS:
            kernel = _flake_kernel(sigma).to(image)
            radius = kernel.shape[-1] // 2
            field = rand((b, 1, h + 2 * radius, w + 2 * radius), generator, image)
            threshold = view4(amount * density)
            seeds = torch.where(
                field < threshold, 1.0 - 0.5 * field / threshold.clamp_min(1e-12), 0
            )
            flakes = correlate_valid_fft(seeds, kernel.expand(b, -1, -1))
            flakes = flakes * view4((0.6 + 0.4 * amount) * brightness)
            snow = snow + flakes.clamp(0.0, 1.0) * (1.0 - snow)
        return snow

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        snow = self.snow_layer(image, params["amount"], generator)
        return (image + snow * (1.0 - image)).clamp(0.0, 1.0)

    def params(self) -> dict[str, float | int | str]:
        return dict(range_params("amount", self.amount))
