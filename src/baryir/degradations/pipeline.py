"""Mixtures of degradations, the spec-string builder and stable per-file seeds."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import torch
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange
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
from baryir.degradations.rain import RAIN_PRESETS, RainStreaks
from baryir.degradations.snow import Snowfall
from baryir.degradations.weather import Fog, Illumination, Shadow, Spatter, SunFlare

__all__ = [
    "Compose",
    "available_degradations",
    "build_degradation",
    "generator_for",
    "seed_from_name",
]


class Compose(Degradation):
    """Apply ``degradations`` in order (a mixture such as noise then JPEG).

    ``name`` joins the parts with ``+``. Parameters of part ``i`` are keyed ``"{i}.{key}"`` in
    :meth:`sample_params`; :meth:`params` keys them ``"{part name}.{key}"`` (``"{name}#{i}"``
    when a name repeats). Parts draw their parameters in order, then their random fields.
    """

    def __init__(self, degradations: Sequence[Degradation]) -> None:
        if not degradations or not all(isinstance(d, Degradation) for d in degradations):
            raise ValueError("Compose needs a non-empty list of Degradation objects")
        self.degradations = list(degradations)
        self.name = "+".join(d.name for d in self.degradations)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for i, part in enumerate(self.degradations):
            params = part.sample_params(batch, generator, like)
            out.update({f"{i}.{key}": value for key, value in params.items()})
        return out

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        for i, part in enumerate(self.degradations):
            prefix = f"{i}."
            own = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
            image = part.apply(image, own, generator)
        return image

    def params(self) -> dict[str, float | int | str]:
        names = [d.name for d in self.degradations]
        out: dict[str, float | int | str] = {}
        for i, part in enumerate(self.degradations):
            label = part.name if names.count(part.name) == 1 else f"{part.name}#{i}"
            out.update({f"{label}.{key}": value for key, value in part.params().items()})
        return out

    def __repr__(self) -> str:
        return f"Compose({self.degradations!r})"


_NUMBER = r"\d+(?:\.\d+)?"
_ARG = re.compile(rf"^({_NUMBER})(?:-({_NUMBER}))?$")


def _parse_range(arg: str, spec: str) -> ParamRange:
    match = _ARG.match(arg)
    if match is None:
        raise ValueError(f"bad argument {arg!r} in degradation spec {spec!r}: use N or MIN-MAX")
    lo = float(match.group(1))
    return lo if match.group(2) is None else (lo, float(match.group(2)))


def _rain(arg: str | None, spec: str) -> Degradation:
    if arg is None:
        return RainStreaks()
    if arg not in RAIN_PRESETS:
        valid = ", ".join(RAIN_PRESETS)
        raise ValueError(f"bad rain level {arg!r} in degradation spec {spec!r}; valid: {valid}")
    return RainStreaks.preset(arg)


# name -> (class, the constructor argument that "name:ARG" sets); "rain" takes a preset instead.
_NUMERIC: dict[str, tuple[type[Degradation], str]] = {
    "noise": (GaussianNoise, "sigma"),
    "haze": (Haze, "beta"),
    "motion_blur": (MotionBlur, "kernel_size"),
    "defocus": (DefocusBlur, "radius"),
    "jpeg": (JPEGCompression, "quality"),
    "lowlight": (LowLight, "exposure"),
    "colorcast": (ColorCast, "distance"),
    "snow": (Snowfall, "amount"),
    "fog": (Fog, "density"),
    "sun_flare": (SunFlare, "radius"),
    "shadow": (Shadow, "intensity"),
    "spatter": (Spatter, "intensity"),
    "illumination": (Illumination, "intensity"),
    "iso_noise": (ISONoise, "intensity"),
    "shot_noise": (ShotNoise, "scale"),
    "downscale": (Downscale, "scale"),
    "zoom_blur": (ZoomBlur, "factor"),
    "glass_blur": (GlassBlur, "delta"),
    "chromatic_aberration": (ChromaticAberration, "distortion"),
}


def available_degradations() -> list[str]:
    """The names :func:`build_degradation` accepts, sorted."""
    return sorted([*_NUMERIC, "rain", "clean"])


def build_degradation(spec: str) -> Degradation:
    """Build a degradation from a spec string such as ``"noise:25"`` or ``"noise:15-50+jpeg:30"``.

    Grammar: parts joined by ``+`` (a :class:`Compose`, applied left to right); each part is
    ``name`` or ``name:arg``. Arguments: ``noise:SIGMA`` (0..255 units), ``rain:LEVEL``
    (light/medium/heavy), ``haze:BETA``, ``motion_blur:SIZE`` (odd), ``defocus:RADIUS``,
    ``jpeg:QUALITY``, ``lowlight:EXPOSURE``, ``colorcast:DISTANCE``, ``clean`` (the identity,
    no argument); falling ``snow:AMOUNT``; from albumentations (``weather.py``, ``camera.py``):
    ``fog:DENSITY``, ``sun_flare:RADIUS``, ``shadow:INTENSITY``, ``spatter:INTENSITY``,
    ``illumination:INTENSITY``, ``iso_noise:INTENSITY``, ``shot_noise:SCALE``,
    ``downscale:SCALE``, ``zoom_blur:FACTOR``, ``glass_blur:DELTA``,
    ``chromatic_aberration:DISTORTION``. Numeric arguments take ``N`` or ``MIN-MAX`` (drawn per
    image). Without an argument the class defaults apply; each class documents its allowed
    range and default.
    """
    parts = [part.strip() for part in spec.split("+")]
    if not spec.strip() or any(not part for part in parts):
        raise ValueError(f"empty part in degradation spec {spec!r}")
    built = []
    for part in parts:
        name, _, arg = part.partition(":")
        name = name.strip().lower()
        arg = arg.strip() if ":" in part else None
        if name == "rain":
            built.append(_rain(arg, spec))
        elif name == "clean":
            if arg is not None:
                raise ValueError(f"'clean' takes no argument in degradation spec {spec!r}")
            built.append(Identity())
        elif name in _NUMERIC:
            cls, key = _NUMERIC[name]
            value = None if arg is None else _parse_range(arg, spec)
            try:
                built.append(cls() if value is None else cls(**{key: value}))
            except ValueError as exc:
                raise ValueError(f"{exc} (in degradation spec {spec!r})") from None
        else:
            valid = ", ".join(available_degradations())
            raise ValueError(f"unknown degradation {name!r} in spec {spec!r}; valid: {valid}")
    return built[0] if len(built) == 1 else Compose(built)


def seed_from_name(name: str, seed: int = 0) -> int:
    """A 63-bit seed from ``sha256(f"{seed}:{name}")``: stable across machines and Python runs."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def generator_for(name: str, seed: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with :func:`seed_from_name` ``(name, seed)``."""
    return torch.Generator(device=device).manual_seed(seed_from_name(name, seed))
