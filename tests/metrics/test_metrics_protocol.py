"""baryir.metrics: known values, the per-image mean, and scikit-image as the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

from baryir.io import read_image
from baryir.metrics import (
    EvalProtocol,
    crop_to_multiple,
    prepare_pair,
    psnr_ssim,
    restoration_metrics,
    rgb_to_y,
)

PAD = EvalProtocol(size_policy="pad")


def _sk_scores(
    pred: torch.Tensor, target: torch.Tensor, protocol: EvalProtocol
) -> tuple[float, float]:
    """scikit-image on the protocol's prepared (H, W, C) arrays."""
    p, t = (x[0].permute(1, 2, 0).numpy() for x in prepare_pair(pred, target, protocol))
    psnr = sk_psnr(t, p, data_range=255)
    ssim = sk_ssim(
        t,
        p,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    return psnr, ssim


@pytest.fixture(scope="module")
def noisy_cbsd68() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Three CBSD68 images with seeded sigma-25 Gaussian noise: (noisy, clean) pairs."""
    from conftest import shared_data_dir

    folder = shared_data_dir() / "CBSD68"
    files = sorted(folder.glob("*.png"))[:3]
    if len(files) < 3:
        pytest.skip(f"CBSD68 not found at {folder} (set BARYIR_DATA)")
    generator = torch.Generator().manual_seed(0)
    pairs = []
    for path in files:
        clean = read_image(path)
        noisy = (clean + torch.randn(clean.shape, generator=generator) * 25 / 255).clamp(0, 1)
        pairs.append((noisy, clean))
    return pairs


def test_identical_images() -> None:
    image = torch.rand(3, 32, 40, generator=torch.Generator().manual_seed(0))
    psnr, ssim = psnr_ssim(image, image)
    assert psnr == math.inf  # zero error: inf, as scikit-image
    assert ssim == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("error", [1, 3, 10])
def test_constant_error_known_psnr(error: int) -> None:
    target = torch.randint(20, 200, (3, 24, 24), generator=torch.Generator().manual_seed(1)) / 255
    psnr, _ = psnr_ssim(target + error / 255, target)
    # torchmetrics keeps data_range as a float32 state: agreement to ~1e-5 dB, not 1e-12
    assert psnr == pytest.approx(10 * math.log10(255**2 / error**2), abs=1e-4)


def test_collection_is_mean_of_per_image_psnr() -> None:
    target = torch.full((2, 3, 16, 16), 100 / 255)
    pred = target + torch.tensor([1.0, 10.0]).view(2, 1, 1, 1) / 255
    metrics = restoration_metrics(PAD, prefix="val/")
    metrics.update(pred[:1], target[:1])
    metrics.update(pred[1:], target[1:])
    result = metrics.compute()
    per_image = [10 * math.log10(255**2 / e**2) for e in (1, 10)]
    pooled = 10 * math.log10(255**2 / ((1 + 100) / 2))
    assert float(result["val/psnr"]) == pytest.approx(sum(per_image) / 2, abs=1e-4)
    assert float(result["val/psnr"]) != pytest.approx(pooled, abs=0.1)
    assert set(result) == {"val/psnr", "val/ssim"}


def test_collection_equals_psnr_ssim_per_image() -> None:
    generator = torch.Generator().manual_seed(2)
    target = torch.rand(3, 3, 37, 45, generator=generator)
    pred = target + 0.05 * torch.randn(target.shape, generator=generator)
    metrics = restoration_metrics()
    metrics.update(pred, target)
    singles = [psnr_ssim(p, t) for p, t in zip(pred, target, strict=True)]
    result = metrics.compute()
    assert float(result["psnr"]) == pytest.approx(np.mean([s[0] for s in singles]), abs=1e-4)
    assert float(result["ssim"]) == pytest.approx(np.mean([s[1] for s in singles]), abs=1e-6)
    metrics.reset()
    metrics.update(target, target)
    assert float(metrics.compute()["ssim"]) == pytest.approx(1.0)


@pytest.mark.parametrize("size_policy", ["pad", "crop"])
def test_matches_skimage_on_cbsd68(noisy_cbsd68: list, size_policy: str) -> None:
    protocol = EvalProtocol(size_policy=size_policy)
    worst_psnr = worst_ssim = 0.0
    for noisy, clean in noisy_cbsd68:
        psnr, ssim = psnr_ssim(noisy, clean, protocol)
        ref_psnr, ref_ssim = _sk_scores(noisy, clean, protocol)
        worst_psnr = max(worst_psnr, abs(psnr - ref_psnr))
        worst_ssim = max(worst_ssim, abs(ssim - ref_ssim))
        assert 15 < psnr < 25  # sigma 25 noise: about 20.2 dB
    assert worst_psnr < 0.01 and worst_ssim < 0.001
    assert worst_psnr < 1e-4 and worst_ssim < 1e-9  # measured: ~6e-7 dB, ~2e-15


def test_y_channel_matches_skimage_on_bt601_luma(noisy_cbsd68: list) -> None:
    protocol = EvalProtocol(channel="y", size_policy="pad")
    for noisy, clean in noisy_cbsd68[:2]:
        psnr, ssim = psnr_ssim(noisy, clean, protocol)

        def luma(image: torch.Tensor) -> np.ndarray:  # BasicSR: quantise RGB, then float Y
            rgb = np.round(image.permute(1, 2, 0).double().numpy() * 255) / 255
            return 16 + rgb @ np.array([65.481, 128.553, 24.966])

        ref_p, ref_c = luma(noisy), luma(clean)
        assert psnr == pytest.approx(sk_psnr(ref_c, ref_p, data_range=255), abs=1e-4)
        ref_ssim = sk_ssim(
            ref_c,
            ref_p,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
        )
        assert ssim == pytest.approx(ref_ssim, abs=1e-9)
        assert psnr > psnr_ssim(noisy, clean, PAD)[0]  # colour noise partly cancels in Y


def test_rgb_to_y_known_values() -> None:
    colours = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]).view(3, 3, 1, 1)
    y = rgb_to_y(colours).flatten() * 255
    torch.testing.assert_close(y, torch.tensor([16.0, 235.0, 16 + 65.481]))


def test_border_crop_equals_manual_crop() -> None:
    generator = torch.Generator().manual_seed(3)
    target = torch.rand(3, 48, 40, generator=generator)
    pred = (target + 0.1 * torch.randn(target.shape, generator=generator)).clamp(0, 1)
    cropped = psnr_ssim(pred, target, EvalProtocol(crop_border=4, size_policy="pad"))
    manual = psnr_ssim(pred[:, 4:-4, 4:-4], target[:, 4:-4, 4:-4], PAD)
    assert cropped == pytest.approx(manual, abs=1e-12)
    assert prepare_pair(pred, target, EvalProtocol(crop_border=4))[0].shape == (1, 3, 40, 32)


def test_quantize_rounds_to_8_bit_levels() -> None:
    target = torch.full((3, 16, 16), 0.5)
    near = target + 0.3 / 255  # rounds to the same 8-bit level
    assert psnr_ssim(near, target)[0] == math.inf
    assert psnr_ssim(near, target, EvalProtocol(quantize=False))[0] < math.inf


def test_crop_to_multiple_is_centred() -> None:
    image = torch.arange(13 * 21).view(1, 13, 21)
    cropped = crop_to_multiple(image, 8)
    assert cropped.shape == (1, 8, 16)
    assert int(cropped[0, 0, 0]) == int(image[0, 2, 2])  # remainders 5, 5: 2 before, 3 after
    assert crop_to_multiple(torch.zeros(3, 321, 481)).shape == (3, 320, 480)
    with pytest.raises(ValueError, match="smaller"):
        crop_to_multiple(torch.zeros(3, 5, 20))


def test_protocol_and_input_validation() -> None:
    with pytest.raises(ValueError, match="channel"):
        EvalProtocol(channel="ycbcr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size_policy"):
        EvalProtocol(size_policy="resize")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="crop_border"):
        EvalProtocol(crop_border=-1)
    with pytest.raises(ValueError, match="differ"):
        prepare_pair(torch.rand(3, 16, 16), torch.rand(3, 16, 8), PAD)
    with pytest.raises(ValueError, match="one image"):
        psnr_ssim(torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16))
