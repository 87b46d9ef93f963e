"""Falling snow (``snow.py``): identity at amount 0, white flakes only, coverage, flake sizes."""

from __future__ import annotations

import pytest
import torch

from baryir.degradations import Snowfall, build_degradation
from baryir.degradations.snow import SNOW_LAYERS


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_amount_zero_is_the_identity() -> None:
    image = torch.rand(2, 3, 40, 32, generator=_gen(0))
    assert torch.equal(Snowfall(0.0)(image, _gen(1)), image)


def test_flakes_only_brighten_and_are_white() -> None:
    image = torch.rand(3, 64, 64, generator=_gen(0))
    out = Snowfall(0.8)(image, _gen(1))
    assert bool((out >= image).all()) and float(out.max()) <= 1.0
    black = Snowfall(0.8)(torch.zeros(3, 64, 64), _gen(1))
    assert torch.equal(black[0], black[1]) and torch.equal(black[1], black[2])  # grey-white


def test_coverage_grows_with_amount() -> None:
    black = torch.zeros(4, 3, 96, 96)
    light = (Snowfall(0.2)(black, _gen(2)) > 0.1).float().mean()
    heavy = (Snowfall(0.9)(black, _gen(2)) > 0.1).float().mean()
    assert 0.005 < light < heavy < 0.5


def test_layers_and_params() -> None:
    assert [sigma for sigma, _, _ in SNOW_LAYERS] == sorted(sigma for sigma, _, _ in SNOW_LAYERS)
    assert Snowfall().params() == {"amount_min": 0.2, "amount_max": 0.6}
    assert build_degradation("snow:0.3").params() == {"amount": 0.3}
    with pytest.raises(ValueError, match="amount must lie in"):
        Snowfall(1.5)


def test_batch_images_draw_their_own_amount() -> None:
    black = torch.zeros(6, 3, 48, 48)
    params = Snowfall((0.0, 1.0)).sample_params(6, _gen(3), black)
    assert params["amount"].shape == (6,) and params["amount"].unique().numel() == 6
    coverage = (Snowfall((0.0, 1.0))(black, _gen(3)) > 0.1).float().mean((1, 2, 3))
    assert coverage.unique().numel() > 1
