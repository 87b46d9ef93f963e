"""The albumentations effects (weather.py, camera.py) and their adapter: identity, range,
determinism, shape, strength, and one known answer or invariant per effect."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.degradations import (
    ChromaticAberration,
    Downscale,
    Fog,
    GlassBlur,
    Illumination,
    ISONoise,
    Shadow,
    ShotNoise,
    Spatter,
    SunFlare,
    ZoomBlur,
    build_degradation,
    generator_for,
)
from baryir.degradations.adapter import AlbumentationsEffect

# class, a mild and a strong strength (the identity is the class's ``identity``)
EFFECTS = [
    (Fog, 0.2, 0.9),
    (SunFlare, 0.1, 0.5),
    (Shadow, 0.2, 0.8),
    (Spatter, 0.2, 0.9),
    (Illumination, 0.05, 0.2),
    (ISONoise, 0.1, 0.8),
    (ShotNoise, 0.01, 0.2),
    (Downscale, 0.6, 0.15),
    (ZoomBlur, 1.03, 1.3),
    (GlassBlur, 1, 4),
    (ChromaticAberration, 0.02, 0.3),
]
IDS = [cls.name for cls, _, _ in EFFECTS]


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    """scikit-image's astronaut at 64 x 64: ``(3, 64, 64)`` on the 8-bit grid."""
    from skimage import data

    small = Image.fromarray(data.astronaut()).resize((64, 64), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(small).copy()).permute(2, 0, 1).float() / 255


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(("cls", "mild", "strong"), EFFECTS, ids=IDS)
def test_identity_strength_returns_the_image(cls, mild, strong, photo) -> None:
    image = torch.rand(2, 3, 24, 20, generator=_gen(0))
    assert torch.equal(cls(cls.identity)(image, _gen(1)), image)
    assert torch.equal(cls(cls.identity)(photo, _gen(1)), photo)


@pytest.mark.parametrize(("cls", "mild", "strong"), EFFECTS, ids=IDS)
def test_shape_range_dtype_and_determinism(cls, mild, strong, photo) -> None:
    effect = cls((min(mild, strong), max(mild, strong)))
    batch = torch.stack([photo, photo.flip(-1)])
    first = effect(batch, generator_for("a.png"))
    assert first.shape == batch.shape and first.dtype == torch.float32
    assert float(first.min()) >= 0.0 and float(first.max()) <= 1.0
    assert torch.equal(first, effect(batch, generator_for("a.png")))
    assert not torch.equal(first, effect(batch, generator_for("b.png")))
    double = effect(photo.double(), _gen(3))
    assert double.shape == photo.shape and double.dtype == torch.float64


@pytest.mark.parametrize(("cls", "mild", "strong"), EFFECTS, ids=IDS)
def test_stronger_moves_further_from_the_photo(cls, mild, strong, photo) -> None:
    mild_error = (cls(mild)(photo, _gen(5)) - photo).abs().mean()
    strong_error = (cls(strong)(photo, _gen(5)) - photo).abs().mean()
    assert 0 < mild_error < strong_error


@pytest.mark.parametrize(("cls", "mild", "strong"), EFFECTS, ids=IDS)
def test_global_numpy_and_python_rng_untouched(cls, mild, strong, photo) -> None:
    np.random.seed(0)
    random.seed(0)
    cls(strong)(photo, _gen(0))
    assert np.random.random() == np.random.RandomState(0).random_sample()
    assert random.random() == random.Random(0).random()


@pytest.mark.parametrize(("cls", "mild", "strong"), EFFECTS, ids=IDS)
def test_rejects_out_of_range_and_gray(cls, mild, strong) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        cls(cls.limits[1] + 1)
    with pytest.raises(ValueError, match="needs RGB images"):
        cls(strong)(torch.rand(1, 16, 16), _gen(0))


def test_every_effect_is_registered_and_tested() -> None:
    subclasses = set(AlbumentationsEffect.__subclasses__())
    assert subclasses == {cls for cls, _, _ in EFFECTS}
    for cls, mild, _ in EFFECTS:
        assert type(build_degradation(f"{cls.name}:{mild}")) is cls


def test_fog_lowers_contrast(photo) -> None:
    assert Fog(0.8)(photo, _gen(0)).std() < photo.std()


def test_sun_flare_brightens(photo) -> None:
    out = SunFlare(0.4)(photo, _gen(0))
    assert out.mean() > photo.mean() + 0.02
    assert (out >= photo - 1 / 255).float().mean() > 0.99


def test_shadow_only_darkens_some_pixels(photo) -> None:
    out = Shadow(0.7)(photo, _gen(0))
    assert bool((out <= photo + 1e-6).all())
    unchanged = (out == photo).all(0).float().mean()
    assert 0.05 < unchanged < 1.0


def test_spatter_modes_differ(photo) -> None:
    assert Spatter(0.8).params() == {"intensity": 0.8, "mode": "rain"}
    rain, mud = Spatter(0.8)(photo, _gen(0)), Spatter(0.8, mode="mud")(photo, _gen(0))
    assert not torch.equal(rain, mud)
    with pytest.raises(ValueError, match="'rain' or 'mud'"):
        Spatter(0.5, mode="oil")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["gaussian", "corner"])
def test_illumination_is_a_smooth_bounded_factor(mode, photo) -> None:
    flat = torch.full((3, 32, 32), 0.5)
    for seed in range(4):
        out = Illumination(0.2, mode=mode)(flat, _gen(seed))
        assert (out - flat).abs().max() <= 0.2 * 0.5 + 1e-6  # factor in [0.8, 1.2]
        assert (out[:, :, 1:] - out[:, :, :-1]).abs().max() < 0.02  # no edges
    assert not torch.equal(Illumination(0.001)(photo, _gen(0)), photo)  # acts as 0.01
    with pytest.raises(ValueError, match="'gaussian' or 'corner'"):
        Illumination(0.1, mode="linear")  # type: ignore[arg-type]


def test_iso_noise_follows_contrast_and_shot_noise_keeps_the_mean(photo) -> None:
    flat = torch.full((3, 64, 64), 0.5)
    torch.testing.assert_close(ISONoise(0.5)(flat, _gen(0)), flat, atol=1 / 255, rtol=0)
    assert (ISONoise(0.5)(photo, _gen(0)) - photo).abs().mean() > 0.01
    shot = ShotNoise(0.05)(flat, _gen(0))
    assert abs(float(shot.mean()) - 0.5) < 0.02 and float(shot.std()) > 0.05


def test_downscale_averages_a_checkerboard() -> None:
    # Known answer: halving a 1-pixel checkerboard by area averaging gives flat grey, which
    # bilinear enlargement keeps flat.
    board = ((torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2).float()
    out = Downscale(0.5)(board.expand(3, 32, 32), _gen(0))
    torch.testing.assert_close(out, torch.full_like(out, 0.5), atol=1 / 255, rtol=0)


@pytest.mark.parametrize(
    ("cls", "strength"),
    [(ZoomBlur, 1.3), (GlassBlur, 4), (ChromaticAberration, 0.3), (Downscale, 0.2)],
    ids=["zoom_blur", "glass_blur", "chromatic_aberration", "downscale"],
)
def test_blurs_keep_a_flat_image(cls, strength) -> None:
    flat = torch.full((3, 40, 40), 0.4)
    torch.testing.assert_close(cls(strength)(flat, _gen(0)), flat, atol=1 / 255, rtol=0)


def test_zoom_blur_is_radial(photo) -> None:
    error = (ZoomBlur(1.2)(photo, _gen(0)) - photo).abs().mean(0)
    assert error[28:36, 28:36].mean() < error[:8, :8].mean()


def test_glass_blur_draws_whole_displacements(photo) -> None:
    params = GlassBlur((1, 4)).sample_params(256, _gen(0), photo)
    assert set(params["delta"].tolist()) == {1.0, 2.0, 3.0, 4.0}


def test_chromatic_aberration_keeps_green(photo) -> None:
    out = ChromaticAberration(0.3)(photo, _gen(0))
    assert torch.equal(out[1], photo[1])
    assert not torch.equal(out[0], photo[0]) and not torch.equal(out[2], photo[2])
