"""Seeded synthetic degradations on images ``(C, H, W)`` or ``(B, C, H, W)`` in [0, 1].

Every degradation is a picklable callable ``d(image, generator=None) -> Tensor`` with a
``name`` and ``params()``; see :mod:`baryir.degradations.base` for the randomness convention and
:func:`build_degradation` for spec strings such as ``"noise:25+jpeg:30"`` (the names:
:func:`available_degradations`, registered by each class with :func:`register_degradation`).

Example:
    >>> import torch
    >>> from baryir.degradations import build_degradation, generator_for
    >>> degrade = build_degradation("noise:15-50")
    >>> noisy = degrade(torch.rand(3, 128, 128), generator_for("0001.png"))
"""

from baryir.degradations.base import Degradation
from baryir.degradations.blur import DefocusBlur, MotionBlur
from baryir.degradations.camera import (
    ChromaticAberration,
    Downscale,
    GlassBlur,
    ISONoise,
    ShotNoise,
    ZoomBlur,
)
from baryir.degradations.colorcast import ColorCast
from baryir.degradations.haze import Haze
from baryir.degradations.identity import Identity
from baryir.degradations.jpeg import JPEGCompression
from baryir.degradations.lowlight import LowLight
from baryir.degradations.noise import GaussianNoise
from baryir.degradations.pipeline import Compose, build_degradation, generator_for, seed_from_name
from baryir.degradations.rain import RainStreaks
from baryir.degradations.registry import available_degradations, register_degradation
from baryir.degradations.snow import Snowfall
from baryir.degradations.weather import Fog, Illumination, Shadow, Spatter, SunFlare

__all__ = [
    "ChromaticAberration",
    "ColorCast",
    "Compose",
    "DefocusBlur",
    "Degradation",
    "Downscale",
    "Fog",
    "GaussianNoise",
    "GlassBlur",
    "Haze",
    "ISONoise",
    "Identity",
    "Illumination",
    "JPEGCompression",
    "LowLight",
    "MotionBlur",
    "RainStreaks",
    "Shadow",
    "ShotNoise",
    "Snowfall",
    "Spatter",
    "SunFlare",
    "ZoomBlur",
    "available_degradations",
    "build_degradation",
    "generator_for",
    "register_degradation",
    "seed_from_name",
]
