"""Underwater-like colour cast: wavelength-dependent attenuation and a blue-green veil."""

from __future__ import annotations

import torch
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange, as_range, range_params, uniform, view4
from baryir.degradations.registry import register_degradation

__all__ = ["ColorCast"]

# Veil (backscatter) colours at the two ends of veil_mix: green coastal water, blue open water.
_GREEN_VEIL = (0.05, 0.55, 0.45)
_BLUE_VEIL = (0.05, 0.35, 0.65)


@register_degradation("colorcast", argument="distance")
class ColorCast(Degradation):
    """Underwater image formation ``I_c = J_c t_c + B_c (1 - t_c)``, ``t_c = exp(-a_c D)``.

    ``a = attenuation`` per unit distance for (R, G, B), default ``(0.5, 0.12, 0.06)``: red is
    absorbed most, blue least. ``D = distance * (0.5 + 0.5 * ramp)`` with ``ramp`` 1 at the top
    row and 0 at the bottom (the top of the frame is farther). The veil ``B`` mixes
    green water ``(0.05, 0.55, 0.45)`` and blue water ``(0.05, 0.35, 0.65)`` by ``veil_mix``.
    Per-image ranges (defaults; allowed): ``distance`` 1..4 (0..20), ``veil_mix`` 0..1 (0..1).
    At distance 4 the top row keeps 14% of its red and 79% of its blue. RGB input only.
    ``params()`` returns the configuration.
    """

    def __init__(
        self,
        distance: ParamRange = (1.0, 4.0),
        veil_mix: ParamRange = (0.0, 1.0),
        attenuation: tuple[float, float, float] = (0.5, 0.12, 0.06),
    ) -> None:
        self.distance = as_range(distance, "ColorCast distance", 0.0, 20.0)
        self.veil_mix = as_range(veil_mix, "ColorCast veil_mix", 0.0, 1.0)
        if len(attenuation) != 3 or min(attenuation) < 0:
            raise ValueError(f"ColorCast attenuation must be 3 values >= 0, got {attenuation!r}")
        self.attenuation = tuple(float(a) for a in attenuation)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {
            "distance": uniform(self.distance, batch, generator, like),
            "veil_mix": uniform(self.veil_mix, batch, generator, like),
        }

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        if image.shape[1] != 3:
            raise ValueError(f"ColorCast: expected 3 (RGB) channels, got {image.shape[1]}")
        h = image.shape[-2]
        options = {"dtype": image.dtype, "device": image.device}
        ramp = torch.linspace(1.0, 0.0, h, **options).view(1, 1, h, 1)
        dist = view4(params["distance"]) * (0.5 + 0.5 * ramp)
        t = torch.exp(-torch.tensor(self.attenuation, **options).view(1, 3, 1, 1) * dist)
        mix = view4(params["veil_mix"])
        green = torch.tensor(_GREEN_VEIL, **options).view(1, 3, 1, 1)
        blue = torch.tensor(_BLUE_VEIL, **options).view(1, 3, 1, 1)
        veil = (1.0 - mix) * green + mix * blue
        return (image * t + veil * (1.0 - t)).clamp(0.0, 1.0)

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = dict(range_params("distance", self.distance))
        out.update(range_params("veil_mix", self.veil_mix))
        out.update(attenuation=",".join(f"{a:g}" for a in self.attenuation))
        return out
