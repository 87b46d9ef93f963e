"""Synthetic rain streaks: sparse random seeds smeared into slanted lines, blended on top."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from kornia.filters import get_gaussian_kernel2d
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
from baryir.degradations.blur import correlate_valid_fft, odd_sizes
from baryir.degradations.registry import register_degradation

__all__ = ["RAIN_PRESETS", "RainStreaks"]

# density (fraction of pixels seeding a streak), length (odd, pixels), intensity (streak peak).
RAIN_PRESETS: dict[str, dict[str, tuple[float, float]]] = {
    "light": {"density": (0.001, 0.003), "length": (9, 21), "intensity": (0.2, 0.45)},
    "medium": {"density": (0.003, 0.008), "length": (15, 31), "intensity": (0.3, 0.6)},
    "heavy": {"density": (0.008, 0.02), "length": (21, 41), "intensity": (0.45, 0.8)},
}


@register_degradation("rain", levels=RAIN_PRESETS)
class RainStreaks(Degradation):
    """Rain streaks in the style of Rain100L/H: seeds -> motion-blurred lines -> screen blend.

    Per image: a uniform field ``u`` seeds a streak where ``u < density`` (seed brightness
    ``0.5..1``); the seeds are softened by a peak-1 Gaussian (sigma ``width`` pixels) and
    smeared along an anti-aliased line of ``length`` pixels (odd) at ``angle`` degrees from
    vertical (positive turns the streaks counter-clockwise: the top leans left), then scaled
    so a lone streak peaks at about ``intensity``. The grey rain layer ``R`` is blended as
    ``screen: 1 - (1 - x)(1 - R)`` (default) or ``add: min(x + R, 1)`` (Rain100L-like).
    Defaults: the ``"medium"`` preset (see ``RAIN_PRESETS``), ``angle`` -20..20, ``width`` 0.6.
    Allowed: density 0..0.2, length 3..99, angle -80..80, intensity 0..1, width 0..5.
    ``params()`` returns the configuration.
    """

    def __init__(
        self,
        density: ParamRange = RAIN_PRESETS["medium"]["density"],
        length: int | tuple[int, int] = (15, 31),
        angle: ParamRange = (-20.0, 20.0),
        intensity: ParamRange = RAIN_PRESETS["medium"]["intensity"],
        width: float = 0.6,
        blend: Literal["screen", "add"] = "screen",
    ) -> None:
        self.density = as_range(density, "RainStreaks density", 0.0, 0.2)
        self.length = as_range(length, "RainStreaks length", 3, 99)
        if any(int(k) != k or int(k) % 2 == 0 for k in self.length):
            raise ValueError(f"RainStreaks length must be odd integers, got {length!r}")
        self.angle = as_range(angle, "RainStreaks angle", -80.0, 80.0)
        self.intensity = as_range(intensity, "RainStreaks intensity", 0.0, 1.0)
        if not 0.0 <= width <= 5.0:
            raise ValueError(f"RainStreaks width must lie in [0, 5], got {width!r}")
        if blend not in ("screen", "add"):
            raise ValueError(f"RainStreaks blend must be 'screen' or 'add', got {blend!r}")
        self.width = float(width)
        self.blend = blend

    @classmethod
    def preset(cls, level: str) -> RainStreaks:
        """A ``"light"``, ``"medium"`` or ``"heavy"`` rain (see ``RAIN_PRESETS``)."""
        if level not in RAIN_PRESETS:
            raise ValueError(f"unknown rain preset {level!r}; valid: {', '.join(RAIN_PRESETS)}")
        ranges = RAIN_PRESETS[level]
        length = (int(ranges["length"][0]), int(ranges["length"][1]))
        return cls(density=ranges["density"], length=length, intensity=ranges["intensity"])

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {
            "density": uniform(self.density, batch, generator, like),
            "length": odd_sizes(self.length, batch, generator, like),
            "angle": uniform(self.angle, batch, generator, like),
            "intensity": uniform(self.intensity, batch, generator, like),
        }

    def streak_kernels(self, params: dict[str, Tensor]) -> Tensor:
        """Per-image streak kernels ``(B, k, k)`` (float64, CPU), ``k`` odd.

        An anti-aliased segment of ``length`` pixels through the centre (weight
        ``clamp(1 - distance to the line, 0, 1)``, tapered over the last half pixel at the ends,
        peak 1), composed with the peak-1 softening Gaussian and scaled by ``intensity``.
        """
        length = params["length"].cpu().double().view(-1, 1, 1)
        angle = torch.deg2rad(params["angle"].cpu().double()).view(-1, 1, 1)
        size = int(length.max())
        coords = torch.arange(size, dtype=torch.float64) - size // 2
        rows, cols = coords.view(1, -1, 1), coords.view(1, 1, -1)
        along = rows * torch.cos(angle) + cols * torch.sin(angle)
        across = (cols * torch.cos(angle) - rows * torch.sin(angle)).abs()
        ends = (length / 2 + 0.5 - along.abs()).clamp(0.0, 1.0)
        kernels = ((1.0 - across).clamp(0.0, 1.0) * ends).unsqueeze(1)
        if self.width > 0:
            ks = 2 * int(3 * self.width + 0.5) + 1
            soft = get_gaussian_kernel2d((ks, ks), (self.width, self.width)).double()
            kernels = F.conv2d(F.pad(kernels, [ks // 2] * 4), (soft / soft.amax()).unsqueeze(1))
        scale = params["intensity"].cpu().double().view(-1, 1, 1)
        return kernels.squeeze(1) * scale

    def rain_layer(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        """The grey rain layer ``R`` ``(B, 1, H, W)`` in [0, 1] for ``image`` ``(B, C, H, W)``.

        Seeds are drawn on a field larger than the image by the kernel radius on every side,
        so streaks enter from outside the frame; the valid-mode correlation runs by FFT.
        """
        b, _, h, w = image.shape
        kernels = self.streak_kernels(params).to(device=image.device, dtype=image.dtype)
        size = kernels.shape[-1]
        radius = size // 2
        field_h, field_w = h + 2 * radius, w + 2 * radius
        field = rand((b, 1, field_h, field_w), generator, image)
        density = view4(params["density"])
        # u < density selects seeds; (u / density) is again uniform, giving brightness 0.5..1.
        seeds = torch.where(field < density, 1.0 - 0.5 * field / density.clamp_min(1e-12), 0.0)
        streaks = correlate_valid_fft(seeds, kernels)
        return streaks.clamp(0.0, 1.0)

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        rain = self.rain_layer(image, params, generator)
        if self.blend == "screen":
            return 1.0 - (1.0 - image) * (1.0 - rain)
        return (image + rain).clamp(0.0, 1.0)

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = {}
        for key, bounds in (
            ("density", self.density),
            ("length", self.length),
            ("angle", self.angle),
            ("intensity", self.intensity),
        ):
            out.update(range_params(key, bounds))
        out.update(width=self.width, blend=self.blend)
        return out
