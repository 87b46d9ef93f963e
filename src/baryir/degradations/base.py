"""The degradation protocol and the seeded-sampling helpers every degradation shares.

Randomness convention (all degradations):
    every random number is drawn with the ``generator`` passed to ``__call__`` (torch's global
    RNG when it is ``None``), on the generator's device (CPU for ``torch.Generator()`` and for
    the global RNG) and then moved to the image's device. A CUDA image degraded with a CPU
    generator is therefore bit-identical in its random fields to the same image on the CPU; pass
    ``torch.Generator(device="cuda")`` to draw on the GPU instead (faster, different numbers).
    Parameters drawn from a range are drawn once per image of a batch, before any random field,
    so image ``i`` of a batch gets its own parameters.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = [
    "Degradation",
    "ParamRange",
    "as_range",
    "rand",
    "randn",
    "range_params",
    "uniform",
    "view4",
]

ParamRange = float | tuple[float, float]


def as_range(value: ParamRange, name: str, low: float, high: float) -> tuple[float, float]:
    """Return ``value`` as a ``(min, max)`` pair, checking ``low <= min <= max <= high``."""
    pair = (float(value), float(value)) if isinstance(value, int | float) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be a number or a (min, max) pair, got {value!r}")
    lo, hi = float(pair[0]), float(pair[1])
    if not (low <= lo <= hi <= high) or math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} must lie in [{low}, {high}] with min <= max, got {value!r}")
    return lo, hi


def _draw_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def rand(shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor) -> Tensor:
    """``U[0, 1)`` of ``shape`` drawn on the generator's device, returned on ``like``'s device."""
    out = torch.rand(shape, generator=generator, device=_draw_device(generator))
    return out.to(device=like.device, dtype=like.dtype)


def randn(shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor) -> Tensor:
    """``N(0, 1)`` of ``shape`` drawn on the generator's device, returned on ``like``'s device."""
    out = torch.randn(shape, generator=generator, device=_draw_device(generator))
    return out.to(device=like.device, dtype=like.dtype)


def uniform(
    bounds: tuple[float, float], batch: int, generator: torch.Generator | None, like: Tensor
) -> Tensor:
    """One draw per image from ``U[min, max]``: ``(B,)``. A fixed value consumes no randomness."""
    lo, hi = bounds
    if lo == hi:
        return torch.full((batch,), lo, device=like.device, dtype=like.dtype)
    return lo + (hi - lo) * rand((batch,), generator, like)


class Degradation(ABC):
    """Base class: a picklable, seeded callable on images in [0, 1].

    Subclasses are registered under their ``name`` with
    :func:`~baryir.degradations.registry.register_degradation` (which also sets ``argument``,
    the constructor argument a spec ``"name:ARG"`` sets) and implement :meth:`sample_params`
    (per-image parameters, each a ``(B,)`` tensor), :meth:`apply` (the degradation for given
    parameters) and :meth:`params` (the configuration, for reports: a fixed value as ``key``,
    a range as ``key_min``/``key_max``).
    To know the exact parameters one call used, call ``sample_params`` then ``apply`` yourself.
    """

    name: str = "degradation"
    argument: str | None = None

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        """Draw the per-image parameters: each value has shape ``(B,)``."""
        return {}

    @abstractmethod
    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        """Degrade ``image`` ``(B, C, H, W)`` with ``params``; returns ``(B, C, H, W)``.

        The output is in [0, 1] (each implementation clamps) unless a documented option such as
        ``GaussianNoise(clip=False)`` asks otherwise. Computed in float32 (or float64).
        """

    def params(self) -> dict[str, float | int | str]:
        """The configuration, JSON-able."""
        return {}

    def __call__(self, image: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Degrade ``image`` ``(C, H, W)`` or ``(B, C, H, W)``; returns the same shape and dtype."""
        if not isinstance(image, Tensor) or image.ndim not in (3, 4):
            shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
            raise ValueError(
                f"{self.name}: expected a (C, H, W) or (B, C, H, W) tensor, got {shape}"
            )
        if not image.is_floating_point():
            raise ValueError(f"{self.name}: expected a float image in [0, 1], got {image.dtype}")
        batch = image if image.ndim == 4 else image.unsqueeze(0)
        if batch.dtype not in (torch.float32, torch.float64):
            batch = batch.float()
        params = self.sample_params(batch.shape[0], generator, batch)
        out = self.apply(batch, params, generator).to(image.dtype)
        return out if image.ndim == 4 else out.squeeze(0)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def range_params(key: str, bounds: tuple[float, float]) -> dict[str, float]:
    """``{key: v}`` for a fixed value, ``{key_min: lo, key_max: hi}`` for a range."""
    lo, hi = bounds
    return {key: lo} if lo == hi else {f"{key}_min": lo, f"{key}_max": hi}


def view4(values: Tensor) -> Tensor:
    """``(B,)`` -> ``(B, 1, 1, 1)`` for broadcasting over ``(B, C, H, W)``."""
    return values.view(-1, 1, 1, 1)
