"""Motion blur and defocus (out-of-focus) blur with per-image, energy-preserving kernels."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from kornia.filters import filter2d, get_motion_kernel2d
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange, as_range, range_params, uniform
from baryir.degradations.registry import register_degradation

__all__ = [
    "DefocusBlur",
    "MotionBlur",
    "correlate_valid_fft",
    "disk_kernel",
    "filter_per_image",
    "odd_sizes",
]


def odd_sizes(
    bounds: tuple[float, float], batch: int, generator: torch.Generator | None, like: Tensor
) -> Tensor:
    """Odd integers drawn uniformly from ``[min, max]`` (both odd), one per image: ``(B,)`` long."""
    lo, hi = int(bounds[0]), int(bounds[1])
    choices = (hi - lo) // 2 + 1
    steps = (uniform((0.0, 1.0), batch, generator, like) * choices).long().clamp_(max=choices - 1)
    return lo + 2 * steps if choices > 1 else torch.full_like(steps, lo)


def filter_per_image(image: Tensor, kernels: Tensor) -> Tensor:
    """Correlate image ``i`` ``(B, C, H, W)`` with ``kernels[i]`` ``(B, k, k)`` (reflect border)."""
    half = kernels.shape[-1] // 2
    border = "reflect" if min(image.shape[-2:]) > half else "replicate"
    return filter2d(image, kernels.to(image), border_type=border)


def _fast_fft_size(n: int) -> int:
    """The smallest ``m >= n`` whose only prime factors are 2, 3 and 5 (fast FFT lengths)."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def correlate_valid_fft(image: Tensor, kernels: Tensor) -> Tensor:
    """Valid-mode correlation of image ``i`` ``(B, C, H, W)`` with ``kernels[i]`` ``(B, k, k)``.

    Returns ``(B, C, H - k + 1, W - k + 1)``, equal (to float rounding) to ``filter2d`` on the
    interior, by FFT: the cost does not grow with ``k``. ``k`` must be odd. Pad the input first
    (reflect, zeros or extra random field) to choose the border.
    """
    b, c, h, w = image.shape
    size = kernels.shape[-1]
    radius = size // 2
    fft_size = (_fast_fft_size(h), _fast_fft_size(w))
    # Correlation = convolution with the flipped kernel, centred at index 0 (circular FFT).
    padded = image.new_zeros(b, 1, *fft_size)
    padded[..., :size, :size] = kernels.flip(-2, -1).unsqueeze(1).to(image)
    padded = padded.roll((-radius, -radius), dims=(-2, -1))
    spectrum = torch.fft.rfft2(image, s=fft_size) * torch.fft.rfft2(padded)
    full = torch.fft.irfft2(spectrum, s=fft_size)
    return full[..., radius : h - radius, radius : w - radius]


def _pad_to(kernel: Tensor, size: int) -> Tensor:
    pad = (size - kernel.shape[-1]) // 2
    return F.pad(kernel, (pad, pad, pad, pad))


@register_degradation("motion_blur", argument="kernel_size")
class MotionBlur(Degradation):
    """Uniform linear motion blur (camera shake along a line), kernels from kornia.

    Per image: ``kernel_size`` (odd line length in pixels, default 7..21, allowed 3..99),
    ``angle`` in degrees (default 0..180; kornia's convention: 0 is horizontal, counter-clockwise)
    and ``direction`` in [-1, 1] (0: uniform weights, centred, so the image does not shift;
    +-1: weights ramp linearly towards one end, like an accelerating shake). Lines are resampled
    bilinearly; every kernel sums to 1 (mean-preserving). Reflect border; filtered by FFT so
    long kernels cost no more than short ones. ``params()`` returns the configuration.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int] = (7, 21),
        angle: ParamRange = (0.0, 180.0),
        direction: ParamRange = 0.0,
    ) -> None:
        self.kernel_size = as_range(kernel_size, "MotionBlur kernel_size", 3, 99)
        if any(int(k) != k or int(k) % 2 == 0 for k in self.kernel_size):
            raise ValueError(f"MotionBlur kernel_size must be odd integers, got {kernel_size!r}")
        self.angle = as_range(angle, "MotionBlur angle", -360.0, 360.0)
        self.direction = as_range(direction, "MotionBlur direction", -1.0, 1.0)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {
            "kernel_size": odd_sizes(self.kernel_size, batch, generator, like),
            "angle": uniform(self.angle, batch, generator, like),
            "direction": uniform(self.direction, batch, generator, like),
        }

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        sizes = params["kernel_size"].tolist()
        largest = max(sizes)
        kernels = torch.cat(
            [
                _pad_to(get_motion_kernel2d(int(k), a.view(1), d.view(1), mode="bilinear"), largest)
                for k, a, d in zip(sizes, params["angle"], params["direction"], strict=True)
            ]
        )
        radius = largest // 2
        border = "reflect" if min(image.shape[-2:]) > radius else "replicate"
        padded = F.pad(image, [radius] * 4, mode=border)
        return correlate_valid_fft(padded, kernels).clamp(0.0, 1.0)

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = {}
        for key, bounds in (
            ("kernel_size", self.kernel_size),
            ("angle", self.angle),
            ("direction", self.direction),
        ):
            out.update(range_params(key, bounds))
        return out


def disk_kernel(radius: Tensor, size: int | None = None) -> Tensor:
    """Anti-aliased disk (pillbox) kernels summing to 1: ``(B,)`` radii -> ``(B, size, size)``.

    Weight ``clamp(r + 0.5 - dist, 0, 1)`` (approximate pixel coverage) so the blur grows
    smoothly with a fractional radius; radius 0 is the identity. ``size`` defaults to
    ``2 * ceil(max radius) + 1``.
    """
    size = size or 2 * math.ceil(float(radius.max())) + 1
    coords = torch.arange(size, dtype=radius.dtype, device=radius.device) - size // 2
    dist = torch.sqrt(coords[None, :] ** 2 + coords[:, None] ** 2)
    weights = (radius.view(-1, 1, 1) + 0.5 - dist).clamp(0.0, 1.0)
    return weights / weights.sum(dim=(-2, -1), keepdim=True)


@register_degradation("defocus", argument="radius")
class DefocusBlur(Degradation):
    """Out-of-focus blur: correlation with a uniform disk (the thin-lens circle of confusion).

    ``radius`` in pixels, default 1..4 (allowed 0..25), one draw per image, fractional radii
    allowed. Kernels sum to 1 (mean-preserving). ``params()`` returns the configuration.
    """

    def __init__(self, radius: ParamRange = (1.0, 4.0)) -> None:
        self.radius = as_range(radius, "DefocusBlur radius", 0.0, 25.0)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        return {"radius": uniform(self.radius, batch, generator, like)}

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        return filter_per_image(image, disk_kernel(params["radius"])).clamp(0.0, 1.0)

    def params(self) -> dict[str, float | int | str]:
        return dict(range_params("radius", self.radius))
