"""Additive white Gaussian noise, the paper's denoising degradation."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from baryir.degradations.base import (
    Degradation,
    ParamRange,
    as_range,
    randn,
    range_params,
    uniform,
    view4,
)
from baryir.degradations.registry import register_degradation

__all__ = ["GaussianNoise"]


@register_degradation("noise", argument="sigma")
class GaussianNoise(Degradation):
    """AWGN as in the paper's data pipeline: ``y = Q(clip(255 x + sigma n))/255``, ``n ~ N(0, 1)``.

    Models sensor/read noise that does not depend on the signal. ``sigma`` is in 0..255 units
    (the paper uses 15, 25 and 50); a ``(min, max)`` pair draws ``sigma ~ U[min, max]`` per
    image (allowed range 0..255). ``clip`` clips to [0, 1]; ``clip=False`` (for studies of
    unclipped AWGN) is the one option in this package whose output can leave [0, 1].
    ``quantize`` snaps to the 8-bit levels ``k/255``: ``rounding="floor"`` truncates like the
    release's ``np.uint8`` cast (biased by -0.5/255 on average), ``"round"`` rounds to the
    nearest level (unbiased). ``params()`` returns the configuration (``sigma`` or
    ``sigma_min``/``sigma_max``).

    Example:
        >>> noisy = GaussianNoise(25)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    def __init__(
        self,
        sigma: ParamRange = 25.0,
        clip: bool = True,
        quantize: bool = True,
        rounding: Literal["floor", "round"] = "floor",
    ) -> None:
        if rounding not in ("floor", "round"):
            raise ValueError(
                f"GaussianNoise: rounding must be 'floor' or 'round', got {rounding!r}"
            )
        self.sigma = as_range(sigma, "GaussianNoise sigma", 0.0, 255.0)
        self.clip = clip
        self.quantize = quantize
        self.rounding = rounding

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {"sigma": uniform(self.sigma, batch, generator, like)}

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        levels = image * 255.0 + view4(params["sigma"]) * randn(
            tuple(image.shape), generator, image
        )
        if self.clip:
            levels = levels.clamp(0.0, 255.0)
        if self.quantize:
            levels = levels.floor() if self.rounding == "floor" else levels.round()
        return levels / 255.0

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = dict(range_params("sigma", self.sigma))
        out.update(clip=self.clip, quantize=self.quantize, rounding=self.rounding)
        return out
