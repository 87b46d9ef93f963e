"""Known behaviour of each physical model: haze, blur, JPEG, low light, colour cast, rain."""

import math

import pytest
import torch

from baryir.degradations import (
    ColorCast,
    DefocusBlur,
    Haze,
    JPEGCompression,
    LowLight,
    MotionBlur,
    RainStreaks,
)
from baryir.degradations.blur import disk_kernel
from baryir.degradations.haze import depth_proxy, transmission
from tolerance import U32, float32_sum_bound


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _texture(size: int = 96) -> torch.Tensor:
    """A smooth gradient plus a fine checkerboard and noise: (1, 3, size, size) in [0, 1]."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    checker = ((torch.arange(size)[:, None] + torch.arange(size)[None, :]) % 2).float()
    base = 0.2 + 0.3 * x + 0.2 * y + 0.2 * checker
    rgb = torch.stack([base, 0.9 * base, 0.8 * base + 0.1])
    return (rgb + 0.05 * torch.rand(3, size, size, generator=_gen(9))).clamp(0, 1).unsqueeze(0)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return (10 * torch.log10(1 / ((a - b) ** 2).mean())).item()


def _high_freq_energy(image: torch.Tensor) -> float:
    spectrum = torch.fft.fftshift(torch.fft.fft2(image - image.mean()), dim=(-2, -1)).abs() ** 2
    h, w = image.shape[-2:]
    y, x = torch.meshgrid(torch.arange(h) - h // 2, torch.arange(w) - w // 2, indexing="ij")
    return spectrum[..., (y.abs() > h // 4) | (x.abs() > w // 4)].sum().item()


# Haze
def test_transmission_monotone_in_depth() -> None:
    depth = torch.linspace(0, 10, 50).view(1, 1, 1, 50)
    t = transmission(depth, torch.tensor([0.1]))
    assert (t.diff(dim=-1) < 0).all() and t[..., 0].item() == pytest.approx(1.0)


def test_depth_proxy_range_and_ramp() -> None:
    flat = torch.full((2, 3, 64, 48), 0.4)
    depth = depth_proxy(flat)
    assert depth.shape == (2, 1, 64, 48)
    assert depth.min() == 0.0 and depth.max() == pytest.approx(1.0)
    assert (depth[0, 0, :-1, 0] > depth[0, 0, 1:, 0]).all()  # the top is far on a flat image


def test_beta_zero_is_identity() -> None:
    image = _texture()
    assert torch.allclose(Haze(beta=0.0)(image, _gen()), image, atol=1e-6)


def test_hazier_means_lower_contrast() -> None:
    image = _texture()
    light = Haze(beta=0.05, airlight=0.9)(image, _gen())
    dense = Haze(beta=0.2, airlight=0.9)(image, _gen())
    assert image.std() > light.std() > dense.std()
    assert dense.mean() > light.mean() > image.mean()  # pulled towards the airlight 0.9


# Blur
@pytest.mark.parametrize(
    "blur",
    [MotionBlur(kernel_size=15, angle=30.0), DefocusBlur(radius=3.0)],
    ids=["motion", "disk"],
)
def test_blur_removes_high_frequencies_keeps_mean(blur) -> None:
    image = _texture()
    out = blur(image, _gen())
    assert _high_freq_energy(out) < 0.2 * _high_freq_energy(image)
    assert out.mean().item() == pytest.approx(image.mean().item(), abs=2e-3)


def test_disk_kernel_sums_to_one_and_zero_radius_is_identity() -> None:
    kernels = disk_kernel(torch.tensor([0.0, 1.5, 4.0]))
    assert kernels.shape == (3, 9, 9)
    assert torch.allclose(kernels.sum(dim=(-2, -1)), torch.ones(3))
    assert kernels[0, 4, 4] == 1.0
    assert (kernels[2] > 0).sum() > (kernels[1] > 0).sum()


def test_motion_blur_kernel_sizes_odd_within_range() -> None:
    image = torch.rand(64, 3, 8, 8)
    sizes = MotionBlur(kernel_size=(3, 11)).sample_params(64, _gen(), image)["kernel_size"]
    assert set(sizes.tolist()) == {3, 5, 7, 9, 11}
    with pytest.raises(ValueError, match="odd"):
        MotionBlur(kernel_size=4)


# JPEG
def test_jpeg_lower_quality_lower_psnr() -> None:
    image = _texture()
    psnrs = [_psnr(JPEGCompression(q)(image), image) for q in (10, 50, 90)]
    assert psnrs[0] < psnrs[1] < psnrs[2]
    assert psnrs[2] < 60  # the output differs from the input even at quality 90


def test_jpeg_quality_draws_are_integers_in_range() -> None:
    quality = JPEGCompression((10, 12)).sample_params(50, _gen(), torch.rand(1))["quality"]
    assert quality.dtype == torch.long and set(quality.tolist()) == {10, 11, 12}


def test_jpeg_kornia_backend_runs() -> None:
    image = _texture(32)
    out = JPEGCompression(20, backend="kornia")(image)
    assert out.shape == image.shape and _psnr(out, image) < 40


# Low light
def test_lowlight_darkens_and_adds_noise() -> None:
    image = _texture()
    out = LowLight()(image, _gen())
    assert out.mean() < 0.5 * image.mean()
    smooth = LowLight(photons=1e6, read_noise=0.0, quantize=False)(image, _gen())
    assert not torch.allclose(out, smooth, atol=1 / 255)


def test_lowlight_noise_grows_with_signal() -> None:
    # Poisson: var = x' / photons, so the brighter patch is noisier.
    deg = LowLight(exposure=1.0, gamma=1.0, photons=100.0, read_noise=0.0, quantize=False)
    dark, bright = (deg(torch.full((3, 64, 64), v), _gen()).std().item() for v in (0.05, 0.8))
    assert bright > 2 * dark
    assert bright == pytest.approx((0.8 / 100) ** 0.5, rel=0.1)


# Colour cast
def test_colorcast_reduces_red_more_than_blue() -> None:
    image = torch.full((1, 3, 32, 32), 0.7)
    out = ColorCast(distance=3.0)(image, _gen())
    red_drop = (image[:, 0] - out[:, 0]).mean()
    blue_drop = (image[:, 2] - out[:, 2]).mean()
    assert red_drop > 0.2 and red_drop > blue_drop + 0.2


def test_colorcast_needs_rgb() -> None:
    with pytest.raises(ValueError, match="3 \\(RGB\\)"):
        ColorCast()(torch.rand(1, 8, 8))


# Rain
def test_rain_only_brightens_and_density_scales_coverage() -> None:
    image = _texture()
    light = RainStreaks.preset("light")(image, _gen())
    heavy = RainStreaks.preset("heavy")(image, _gen())
    assert (light >= image - 1e-6).all() and (heavy >= image - 1e-6).all()
    assert ((heavy - image) > 0.05).float().mean() > ((light - image) > 0.05).float().mean()


def test_rain_streaks_are_elongated() -> None:
    """Vertical streaks: the rain layer correlates along columns far more than along rows."""
    deg = RainStreaks(density=0.005, length=21, angle=0.0, intensity=0.8)
    layer = deg.rain_layer(
        torch.zeros(1, 3, 128, 128), deg.sample_params(1, _gen(), torch.zeros(1)), _gen()
    )
    layer = layer - layer.mean()
    along = (layer[..., 4:, :] * layer[..., :-4, :]).mean()
    across = (layer[..., :, 4:] * layer[..., :, :-4]).mean()
    assert along > 5 * across.abs()


def test_fft_correlation_matches_kornia_filter2d() -> None:
    from kornia.filters import filter2d, get_motion_kernel2d

    from baryir.degradations.blur import correlate_valid_fft

    image = torch.rand(2, 3, 40, 52, generator=_gen(3))
    kernels = get_motion_kernel2d(9, torch.tensor([20.0, 75.0]), torch.tensor([0.5, -1.0]))
    padded = torch.nn.functional.pad(image, [4] * 4, mode="reflect")
    ours = correlate_valid_fft(padded, kernels)
    # kornia sums 81 taps directly (a sum bound at max|x| sum|k| = max|x|); the FFT's rounding
    # is normwise, 3 transforms of log2(N) stages: per value at most 3 log2(N) u |x|_2 |k|_2
    norms = padded.norm(dim=(-2, -1)).max() * kernels.norm(dim=(-2, -1)).max()
    fft = 3 * math.log2((48 + 8) * (60 + 8)) * U32 * float(norms)  # N: the full correlation
    atol = fft + float32_sum_bound(81, image.abs().max())
    assert torch.allclose(ours, filter2d(image, kernels, border_type="reflect"), atol=atol, rtol=0)
