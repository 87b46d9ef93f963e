"""GaussianNoise: the paper's AWGN (sigma in 0..255 units, clipped, quantised)."""

import pytest
import torch

from baryir.degradations import GaussianNoise


@pytest.mark.parametrize("sigma", [15.0, 25.0, 50.0])
def test_std_matches_sigma(sigma: float) -> None:
    # Mid-grey 0.5: clipping at 0/1 is > 2.5 sigma away even for sigma 50 (tail mass ~1%), and
    # floor quantisation adds a uniform error of std 1/(255 sqrt 12). 5% covers both on 196k px.
    clean = torch.full((1, 3, 256, 256), 0.5)
    noisy = GaussianNoise(sigma)(clean, torch.Generator().manual_seed(0))
    assert (noisy - clean).std().item() == pytest.approx(sigma / 255.0, rel=0.05)


def test_floor_bias_and_round_unbiased() -> None:
    clean = torch.full((1, 3, 256, 256), 128 / 255)
    gen = torch.Generator
    floor = GaussianNoise(10)(clean, gen().manual_seed(0))
    rounded = GaussianNoise(10, rounding="round")(clean, gen().manual_seed(0))
    assert (floor - clean).mean().item() == pytest.approx(-0.5 / 255, abs=0.1 / 255)
    assert (rounded - clean).mean().item() == pytest.approx(0.0, abs=0.1 / 255)


def test_quantised_to_8bit_levels() -> None:
    noisy = GaussianNoise(25)(torch.rand(3, 64, 64), torch.Generator().manual_seed(1))
    levels = noisy * 255
    assert torch.allclose(levels, levels.round(), atol=1e-4)


def test_unquantised_unclipped() -> None:
    clean = torch.full((3, 64, 64), 0.98)
    noisy = GaussianNoise(50, clip=False, quantize=False)(clean, torch.Generator().manual_seed(1))
    assert noisy.max() > 1.0
    assert not torch.allclose(noisy * 255, (noisy * 255).round(), atol=1e-4)


def test_zero_sigma_is_identity_on_8bit_images() -> None:
    clean = torch.randint(0, 256, (3, 16, 16)).float() / 255
    assert torch.allclose(GaussianNoise(0, rounding="round")(clean), clean)


def test_params_and_validation() -> None:
    assert GaussianNoise((15, 50)).params()["sigma_min"] == 15.0
    assert GaussianNoise(25).params()["sigma"] == 25.0
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(300)
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise((50, 15))
