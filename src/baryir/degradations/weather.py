"""Weather and lighting from albumentations: fog, sun flare, cast shadows, lens spatter, light.

Every class here is an :class:`~baryir.degradations.adapter.AlbumentationsEffect`: one
strength per image (a number or a ``(min, max)`` range), seeded per image from the generator,
RGB images ``(3, H, W)`` or ``(B, 3, H, W)`` in [0, 1] in and out; the strength ``0`` is the
identity. Spec names: ``fog``, ``sun_flare``, ``shadow``, ``spatter``, ``illumination``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from baryir.degradations.adapter import AlbumentationsEffect, load_albumentations
from baryir.degradations.base import ParamRange
from baryir.degradations.registry import register_degradation

if TYPE_CHECKING:
    from albumentations.core.transforms_interface import BasicTransform

__all__ = ["Fog", "Illumination", "Shadow", "Spatter", "SunFlare"]


@register_degradation("fog", argument="density")
class Fog(AlbumentationsEffect):
    """Patchy fog (``A.RandomFog``): translucent grey discs, densest at the centre, then a blur.

    Unlike :class:`~baryir.degradations.haze.Haze` (the scattering model on a depth ramp) the
    veil is uneven and the whole image is softened (a Gaussian blur whose size follows the image
    and the density). ``density`` is albumentations' ``fog_coef`` in [0, 1] (allowed 0..1,
    default 0.3..0.8; 0: no fog); the discs' opacity ``alpha_coef`` is 0.08.

    Example:
        >>> foggy = Fog(0.5)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 1.0)

    def __init__(self, density: ParamRange = (0.3, 0.8)) -> None:
        super().__init__(density)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().RandomFog(
            fog_coef_range=(value, value), alpha_coef=0.08, p=1.0
        )


@register_degradation("sun_flare", argument="radius")
class SunFlare(AlbumentationsEffect):
    """A sun in the upper half of the frame with its glare and lens ghosts (``A.RandomSunFlare``).

    ``radius`` is the glare's radius as a fraction of the image's shorter side (allowed 0..1,
    default 0.2..0.5; 0: no flare). The ``"physics_based"`` method of albumentations (glow,
    starburst and 6..10 ghosts along a random line through the sun) is used: its ``"overlay"``
    method is hardly visible.

    Example:
        >>> flared = SunFlare(0.3)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 1.0)

    def __init__(self, radius: ParamRange = (0.2, 0.5)) -> None:
        super().__init__(radius)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().RandomSunFlare(
            flare_roi=(0.0, 0.0, 1.0, 0.5),
            src_radius=max(2, round(value * min(height, width))),
            method="physics_based",
            p=1.0,
        )


@register_degradation("shadow", argument="intensity")
class Shadow(AlbumentationsEffect):
    """One or two hard-edged cast shadows (``A.RandomShadow``): random 5-vertex polygons.

    Pixels inside a shadow are multiplied by ``1 - intensity`` (allowed 0..1, default 0.3..0.7;
    0: no shadow; outside the polygons the image is unchanged). The polygons may lie anywhere in
    the image.

    Example:
        >>> shaded = Shadow(0.5)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 1.0)

    def __init__(self, intensity: ParamRange = (0.3, 0.7)) -> None:
        super().__init__(intensity)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().RandomShadow(
            shadow_roi=(0.0, 0.0, 1.0, 1.0),
            num_shadows_limit=(1, 2),
            shadow_intensity_range=(value, value),
            p=1.0,
        )


@register_degradation("spatter", argument="intensity")
class Spatter(AlbumentationsEffect):
    """Drops on the lens (``A.Spatter``): a thresholded, smoothed random layer blended on top.

    ``intensity`` is the blend strength of the drops (allowed 0..1, default 0.3..0.8; 0: clean
    lens). ``mode="rain"`` (default) draws water drops, ``"mud"`` brown mud stains. The drops'
    size is albumentations' (Gaussian sigma 2 pixels), so they look larger on smaller images.

    Example:
        >>> wet = Spatter(0.6)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 1.0)

    def __init__(
        self, intensity: ParamRange = (0.3, 0.8), mode: Literal["rain", "mud"] = "rain"
    ) -> None:
        if mode not in ("rain", "mud"):
            raise ValueError(f"Spatter mode must be 'rain' or 'mud', got {mode!r}")
        super().__init__(intensity)
        self.mode = mode

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().Spatter(intensity=(value, value), mode=self.mode, p=1.0)

    def params(self) -> dict[str, float | int | str]:
        return {**super().params(), "mode": self.mode}


@register_degradation("illumination", argument="intensity")
class Illumination(AlbumentationsEffect):
    """Uneven lighting (``A.Illumination``): a smooth brightening or darkening of part of the frame.

    The image is multiplied by ``1 +- intensity x g`` with ``g`` a smooth field in [0, 1]:
    ``mode="gaussian"`` (default) a spotlight or shade of random place and size, ``"corner"``
    a falloff from a random corner. Whether it brightens or darkens is drawn per image.
    ``intensity`` is allowed in 0..0.2 (albumentations' bound; default 0.05..0.2; 0: unchanged;
    values in (0, 0.01) act as 0.01, albumentations' minimum). albumentations' ``"linear"`` mode
    is not offered: in version 2.0 its gradient is not normalised for most angles, so it changes
    the image by several times ``intensity``.

    Example:
        >>> lit = Illumination(0.15)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 0.2)

    def __init__(
        self,
        intensity: ParamRange = (0.05, 0.2),
        mode: Literal["gaussian", "corner"] = "gaussian",
    ) -> None:
        if mode not in ("gaussian", "corner"):
            raise ValueError(f"Illumination mode must be 'gaussian' or 'corner', got {mode!r}")
        super().__init__(intensity)
        self.mode = mode

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        value = max(value, 0.01)
        return load_albumentations().Illumination(
            mode=self.mode, intensity_range=(value, value), effect_type="both", p=1.0
        )

    def params(self) -> dict[str, float | int | str]:
        return {**super().params(), "mode": self.mode}
