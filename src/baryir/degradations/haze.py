"""Homogeneous haze by the atmospheric scattering model, on a depth proxy."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange, as_range, range_params, uniform, view4
from baryir.degradations.registry import register_degradation

__all__ = ["Haze", "depth_proxy", "transmission"]

_LUMA = (0.299, 0.587, 0.114)


def _minmax(x: Tensor) -> Tensor:
    """Per-image min-max of ``(..., H, W)`` to [0, 1]; an image whose spread is within float
    rounding of its values (64 ulps: a smoothed flat image varies by a few) is flat: 0."""
    lo = x.amin(dim=(-2, -1), keepdim=True)
    hi = x.amax(dim=(-2, -1), keepdim=True)
    spread = hi - lo
    flat = spread <= 64 * torch.finfo(x.dtype).eps * hi.abs()
    return torch.where(flat, 0.0, (x - lo) / spread.clamp_min(torch.finfo(x.dtype).tiny))


def depth_proxy(image: Tensor, luminance_weight: float = 0.5) -> Tensor:
    """A relative depth in [0, 1] (1 = far) for ``image`` ``(B, C, H, W)``: ``(B, 1, H, W)``.

    ``normalise(w * normalise(smooth(Y)) + (1 - w) * ramp)``: ``Y`` the luma (channel mean when
    ``C != 3``), smoothed at 1/8 resolution (Gaussian sigma 2 there, then bilinear upsampling) so
    edges do not cut the haze; bright, smooth regions (sky) count as far. ``ramp`` goes from 1 at
    the top row to 0 at the bottom (the ground is near). ``normalise`` is a per-image min-max.
    A flat image gets the ramp alone.
    """
    b, c, h, w = image.shape
    if c == 3:
        weights = torch.tensor(_LUMA, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
        luma = (image * weights).sum(dim=1, keepdim=True)
    else:
        luma = image.mean(dim=1, keepdim=True)
    small = F.interpolate(luma, size=(max(h // 8, 1), max(w // 8, 1)), mode="area")
    small = gaussian_blur2d(small, (9, 9), (2.0, 2.0), border_type="replicate")
    smooth = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    ramp = torch.linspace(1.0, 0.0, h, dtype=image.dtype, device=image.device).view(1, 1, h, 1)
    mixed = luminance_weight * _minmax(smooth) + (1.0 - luminance_weight) * ramp
    return _minmax(mixed.expand(b, 1, h, w))


def transmission(depth: Tensor, beta: Tensor | float) -> Tensor:
    """``t = exp(-beta * depth)``: ``depth`` ``(B, 1, H, W)`` in scene units, ``beta`` ``(B,)``."""
    beta = view4(beta) if isinstance(beta, Tensor) else beta
    return torch.exp(-beta * depth)


@register_degradation("haze", argument="beta")
class Haze(Degradation):
    """Haze ``I = J t + A (1 - t)``, ``t = exp(-beta d)``, as RESIDE synthesises it.

    ``d = near + (far - near) * depth_proxy(J)`` maps the relative depth (see
    :func:`depth_proxy`) to scene units, default ``depth=(1, 10)``. Per image: ``beta``
    (scattering coefficient, default 0.04..0.2 like RESIDE, allowed 0..1) and a grey airlight
    ``A`` (default 0.7..1.0, allowed 0..1). With the defaults the far end keeps
    ``t = exp(-0.4) = 0.67`` (beta 0.04, light haze) down to ``exp(-2) = 0.14`` (beta 0.2, dense
    haze) and the near end 0.96 to 0.82: visible, never a blank veil. ``beta = 0`` is the
    identity. ``params()`` returns the configuration.
    """

    def __init__(
        self,
        beta: ParamRange = (0.04, 0.2),
        airlight: ParamRange = (0.7, 1.0),
        depth: tuple[float, float] = (1.0, 10.0),
    ) -> None:
        self.beta = as_range(beta, "Haze beta", 0.0, 1.0)
        self.airlight = as_range(airlight, "Haze airlight", 0.0, 1.0)
        self.depth = as_range(depth, "Haze depth", 0.0, 100.0)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {
            "beta": uniform(self.beta, batch, generator, like),
            "airlight": uniform(self.airlight, batch, generator, like),
        }

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        near, far = self.depth
        t = transmission(near + (far - near) * depth_proxy(image), params["beta"])
        return (image * t + view4(params["airlight"]) * (1.0 - t)).clamp(0.0, 1.0)

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = dict(range_params("beta", self.beta))
        out.update(range_params("airlight", self.airlight))
        out.update(depth_near=self.depth[0], depth_far=self.depth[1])
        return out
