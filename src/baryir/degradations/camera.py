"""Camera and lens faults from albumentations: sensor noise, low resolution, optical blur, fringes.

Every class here is an :class:`~baryir.degradations.adapter.AlbumentationsEffect`: one
strength per image (a number or a ``(min, max)`` range), seeded per image from the generator,
RGB images ``(3, H, W)`` or ``(B, 3, H, W)`` in [0, 1] in and out. Spec names: ``iso_noise``,
``shot_noise``, ``downscale``, ``zoom_blur``, ``glass_blur``, ``chromatic_aberration``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from baryir.degradations.adapter import AlbumentationsEffect, load_albumentations
from baryir.degradations.base import ParamRange
from baryir.degradations.registry import register_degradation

if TYPE_CHECKING:
    from albumentations.core.transforms_interface import BasicTransform

__all__ = ["ChromaticAberration", "Downscale", "GlassBlur", "ISONoise", "ShotNoise", "ZoomBlur"]


@register_degradation("iso_noise", argument="intensity")
class ISONoise(AlbumentationsEffect):
    """High-ISO sensor noise (``A.ISONoise``): luminance noise plus a per-pixel hue shift.

    As albumentations defines it (in HLS), the lightness ``L`` gains ``intensity x P x (1 - L)``
    with ``P`` Poisson of mean ``intensity x std(L)`` (so the noise follows the image's
    contrast: a flat grey image is left unchanged) and the hue a Gaussian shift of standard
    deviation ``color_shift x intensity``, ``color_shift`` drawn per image in 0.01..0.05.
    ``intensity`` is allowed in 0..1 (default 0.1..0.5; 0: no noise).

    Example:
        >>> noisy = ISONoise(0.3)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 1.0)

    def __init__(self, intensity: ParamRange = (0.1, 0.5)) -> None:
        super().__init__(intensity)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().ISONoise(intensity=(value, value), p=1.0)


@register_degradation("shot_noise", argument="scale")
class ShotNoise(AlbumentationsEffect):
    """Photon (shot) noise (``A.ShotNoise``): Poisson counts in linear light (gamma 2.2).

    A pixel of linear intensity ``v`` receives ``Poisson(v / scale) * scale``: ``scale`` is the
    inverse photon count at full white (allowed 0..1, default 0.01..0.1; 0: no noise), so the
    noise grows with the signal, unlike :class:`~baryir.degradations.noise.GaussianNoise`.

    Example:
        >>> noisy = ShotNoise(0.05)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 1.0)

    def __init__(self, scale: ParamRange = (0.01, 0.1)) -> None:
        super().__init__(scale)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().ShotNoise(scale_range=(value, value), p=1.0)


@register_degradation("downscale", argument="scale")
class Downscale(AlbumentationsEffect):
    """Low resolution (``A.Downscale``): shrink by ``scale`` (area), enlarge back (bilinear).

    ``scale`` is the linear size factor (allowed 0.05..1, default 0.25..0.5; 1: unchanged), so
    ``downscale:0.25`` keeps a quarter of the width and height.

    Example:
        >>> small = Downscale(0.25)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.05, 1.0)
    identity = 1.0

    def __init__(self, scale: ParamRange = (0.25, 0.5)) -> None:
        super().__init__(scale)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        import cv2  # installed with albumentations

        return load_albumentations().Downscale(
            scale_range=(value, value),
            interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_LINEAR},
            p=1.0,
        )


@register_degradation("zoom_blur", argument="factor")
class ZoomBlur(AlbumentationsEffect):
    """Zoom blur (``A.ZoomBlur``): the mean of 8 copies zoomed about the centre, 1 to ``factor``.

    ``factor`` is the largest zoom (allowed 1..1.5, default 1.03..1.15; 1: unchanged), so the
    blur is radial and grows towards the corners, as when zooming during the exposure.

    Example:
        >>> zoomed = ZoomBlur(1.1)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (1.0, 1.5)
    identity = 1.0

    def __init__(self, factor: ParamRange = (1.03, 1.15)) -> None:
        super().__init__(factor)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        step = (value - 1.0) / 8
        return load_albumentations().ZoomBlur(
            max_factor=(value, value), step_factor=(step, step), p=1.0
        )


@register_degradation("glass_blur", argument="delta")
class GlassBlur(AlbumentationsEffect):
    """Frosted glass (``A.GlassBlur``): Gaussian blur, local pixel swaps, Gaussian blur again.

    ``delta`` is the largest displacement of a swap in pixels, a whole number (allowed 0..10,
    default 1..4, drawn as an integer; 0: unchanged); Gaussian sigma 0.7, two swap passes.

    Example:
        >>> frosted = GlassBlur(2)(torch.rand(3, 64, 64), torch.Generator().manual_seed(0))
    """

    limits = (0.0, 10.0)
    integer = True

    def __init__(self, delta: ParamRange = (1, 4)) -> None:
        super().__init__(delta)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().GlassBlur(
            sigma=0.7, max_delta=int(value), iterations=2, mode="fast", p=1.0
        )


@register_degradation("chromatic_aberration", argument="distortion")
class ChromaticAberration(AlbumentationsEffect):
    """Lateral chromatic aberration (``A.ChromaticAberration``): red and blue radially displaced.

    The red and blue channels are remapped with radial distortion coefficients ``k1 = k2 =
    distortion`` (the same sign for both: green/purple fringes at edges, growing towards the
    corners); green is unchanged. ``distortion`` is allowed in 0..0.5 (default 0.02..0.1; 0:
    unchanged).

    Example:
        >>> image, generator = torch.rand(3, 64, 64), torch.Generator().manual_seed(0)
        >>> fringed = ChromaticAberration(0.1)(image, generator)
    """

    limits = (0.0, 0.5)

    def __init__(self, distortion: ParamRange = (0.02, 0.1)) -> None:
        super().__init__(distortion)

    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        return load_albumentations().ChromaticAberration(
            primary_distortion_limit=(value, value),
            secondary_distortion_limit=(value, value),
            mode="green_purple",
            p=1.0,
        )
