"""Low-light capture: darkening plus signal-dependent (Poisson-Gaussian) sensor noise."""

from __future__ import annotations

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

__all__ = ["LowLight"]


@register_degradation("lowlight", argument="exposure")
class LowLight(Degradation):
    """Under-exposure ``x' = exposure * x ** gamma`` then Poisson-Gaussian noise, LOL-like.

    Noise: ``y = Poisson(photons * x') / photons + (read_noise / 255) * n``, ``n ~ N(0, 1)``:
    shot noise whose variance grows with the signal (``photons`` = photo-electrons at full
    scale; fewer means noisier) plus signal-independent read noise; then clipped and, with
    ``quantize``, rounded to 8-bit levels. Per-image ranges (defaults; allowed):
    ``exposure`` 0.15..0.45 (0.01..1), ``gamma`` 1.5..2.5 (1..5), ``photons`` 150..1500
    (1..1e6), ``read_noise`` 0.5..3 in 0..255 units (0..50). A mid-grey 0.5 becomes about
    0.02..0.16. Poisson draws use ``torch.poisson`` on the generator's device.
    ``params()`` returns the configuration.
    """

    def __init__(
        self,
        exposure: ParamRange = (0.15, 0.45),
        gamma: ParamRange = (1.5, 2.5),
        photons: ParamRange = (150.0, 1500.0),
        read_noise: ParamRange = (0.5, 3.0),
        quantize: bool = True,
    ) -> None:
        self.exposure = as_range(exposure, "LowLight exposure", 0.01, 1.0)
        self.gamma = as_range(gamma, "LowLight gamma", 1.0, 5.0)
        self.photons = as_range(photons, "LowLight photons", 1.0, 1e6)
        self.read_noise = as_range(read_noise, "LowLight read_noise", 0.0, 50.0)
        self.quantize = quantize

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {
            "exposure": uniform(self.exposure, batch, generator, like),
            "gamma": uniform(self.gamma, batch, generator, like),
            "photons": uniform(self.photons, batch, generator, like),
            "read_noise": uniform(self.read_noise, batch, generator, like),
        }

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        dark = view4(params["exposure"]) * image.clamp_min(0.0) ** view4(params["gamma"])
        photons = view4(params["photons"])
        draw_device = generator.device if generator is not None else torch.device("cpu")
        counts = torch.poisson((dark * photons).to(draw_device), generator=generator)
        noisy = counts.to(image.device) / photons
        noisy = noisy + view4(params["read_noise"] / 255.0) * randn(
            tuple(image.shape), generator, image
        )
        noisy = noisy.clamp(0.0, 1.0)
        return (noisy * 255.0).round() / 255.0 if self.quantize else noisy

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = {}
        for key, bounds in (
            ("exposure", self.exposure),
            ("gamma", self.gamma),
            ("photons", self.photons),
            ("read_noise", self.read_noise),
        ):
            out.update(range_params(key, bounds))
        out.update(quantize=self.quantize)
        return out
