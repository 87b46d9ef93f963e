"""The adapter that runs albumentations (v2) effects as seeded degradations of this package.

Each effect (``weather.py``, ``camera.py``) has one strength argument, drawn per image like the
other degradations' parameters; the adapter does the rest, the same way for all of them:

- **Seeding.** Per image, :meth:`AlbumentationsEffect.apply` draws a 32-bit seed from the
  ``generator`` (torch's global RNG when it is ``None``), builds the albumentations transform
  for the image's strength and seeds it with ``transform.set_random_seed(seed)`` (its own numpy
  ``Generator`` and ``random.Random``). numpy's and Python's global random states are never
  read, so the same file name, spec and seed give the same pixels in every run.
- **Conversion.** The batch goes to the CPU once; each image runs as an ``(H, W, 3)`` float32
  array in [0, 1] (albumentations' own float path; the functions that work on 8-bit levels
  convert internally, once, so those effects' outputs lie on the ``k/255`` grid) and comes back
  clamped to [0, 1] in the input's dtype and device.
- **Identity.** An image whose strength equals the effect's ``identity`` value is returned as
  it is, without calling albumentations (so ``fog:0`` is exactly the identity and a range such
  as ``fog:0-0.5`` keeps some images clean).
- **Import.** albumentations is imported on first use (``import baryir.degradations`` stays
  fast), with its PyPI update check disabled unless ``NO_ALBUMENTATIONS_UPDATE`` is already set:
  degrading an image never opens a network connection.
"""

from __future__ import annotations

import math
import os
from abc import abstractmethod
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange, as_range, range_params, uniform

if TYPE_CHECKING:
    from albumentations.core.transforms_interface import BasicTransform

__all__ = ["AlbumentationsEffect", "load_albumentations", "run_transform"]


def load_albumentations() -> ModuleType:
    """Import albumentations without its PyPI update check (see the module docstring)."""
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations

    return albumentations


def run_transform(transform: BasicTransform, image: Tensor) -> Tensor:
    """Run ``transform`` on one image ``(3, H, W)`` in [0, 1] (CPU); returns ``(3, H, W)`` float32.

    The image crosses as an ``(H, W, 3)`` float32 array; the result is clamped to [0, 1].
    """
    array = np.ascontiguousarray(image.detach().float().permute(1, 2, 0).numpy())
    result = transform(image=array)["image"]
    if result.dtype == np.uint8:
        result = result.astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(result)).permute(2, 0, 1).float().clamp(0.0, 1.0)


def _seeds(batch: int, generator: torch.Generator | None) -> list[int]:
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(0, 2**32, (batch,), generator=generator, device=device).tolist()


class AlbumentationsEffect(Degradation):
    """Base of the albumentations effects: one strength argument, drawn once per image.

    Subclasses are registered with their strength as the ``argument``
    (:func:`~baryir.degradations.registry.register_degradation`), set ``limits`` (its allowed
    range), ``identity`` (the strength that leaves an image unchanged) and ``integer``
    (whole-number strengths), call ``super().__init__`` with the strength, and implement
    :meth:`transform`. Images must be RGB.

    Args:
        value: the strength, a number or a ``(min, max)`` range drawn per image (kept as
            ``bounds``).
    """

    limits: tuple[float, float]
    identity: float = 0.0
    integer: bool = False

    def __init__(self, value: ParamRange) -> None:
        label = f"{type(self).__name__} {self.argument}"
        self.bounds = as_range(value, label, *self.limits)
        if self.integer and any(v != math.floor(v) for v in self.bounds):
            raise ValueError(f"{label} must be whole numbers, got {value!r}")

    @abstractmethod
    def transform(self, value: float, height: int, width: int) -> BasicTransform:
        """The albumentations transform (``p=1``) for strength ``value`` on an ``H x W`` image."""

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        lo, hi = self.bounds
        if not self.integer or lo == hi:
            return {self.argument: uniform(self.bounds, batch, generator, like)}
        draw = uniform((0.0, 1.0), batch, generator, like) * (hi - lo + 1)
        return {self.argument: (lo + draw.floor()).clamp_(lo, hi)}

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        if image.shape[1] != 3:
            raise ValueError(f"{self.name}: needs RGB images (B, 3, H, W), got {image.shape[1]}")
        height, width = image.shape[-2:]
        seeds = _seeds(image.shape[0], generator)
        lo, hi = self.bounds
        cpu = image.detach().cpu()
        out = cpu.clone()
        for i, (drawn, seed) in enumerate(zip(params[self.argument].tolist(), seeds, strict=True)):
            value = min(max(drawn, lo), hi)  # undo float32 rounding: 0.2 -> 0.2000000029
            if value == self.identity:
                continue
            transform = self.transform(value, height, width)
            transform.set_random_seed(seed)
            out[i] = run_transform(transform, cpu[i]).to(out.dtype)
        return out.to(image.device)

    def params(self) -> dict[str, float | int | str]:
        return dict(range_params(self.argument, self.bounds))
