"""Behaviour every degradation shares: seeding, shapes, range, batching, pickling."""

import pickle

import pytest
import torch

from baryir.degradations import Degradation, available_degradations, build_degradation

# Every registered name with its defaults (but "clean", the identity: it ignores the seed),
# plus arguments, levels and mixtures.
SPECS = [
    *(name for name in available_degradations() if name != "clean"),
    "noise:25",
    "noise:15-50",
    "rain:heavy",
    "motion_blur:7-21",
    "defocus:1-4",
    "jpeg:10-90",
    "noise:25+jpeg:30",
    "haze:0.1+defocus:2+noise:15",
    "haze+snow+lowlight",
]


def _image(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(123))


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("spec", SPECS)
def test_same_seed_identical(spec: str) -> None:
    deg, image = build_degradation(spec), _image(2, 3, 48, 40)
    assert torch.equal(deg(image, _gen(7)), deg(image, _gen(7)))


@pytest.mark.parametrize("spec", SPECS)
def test_different_seed_differs(spec: str) -> None:
    deg, image = build_degradation(spec), _image(2, 3, 48, 40)
    assert not torch.equal(deg(image, _gen(7)), deg(image, _gen(8)))


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("shape", [(3, 33, 47), (2, 3, 64, 48)])
def test_shape_dtype_range(spec: str, shape: tuple[int, ...]) -> None:
    image = _image(*shape)
    out = build_degradation(spec)(image, _gen(0))
    assert out.shape == image.shape and out.dtype == image.dtype
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not torch.equal(out, image)


@pytest.mark.parametrize("spec", SPECS)
def test_global_rng_when_no_generator(spec: str) -> None:
    deg, image = build_degradation(spec), _image(3, 32, 32)
    torch.manual_seed(5)
    first = deg(image)
    torch.manual_seed(5)
    assert torch.equal(first, deg(image))


@pytest.mark.parametrize("spec", SPECS)
def test_sample_params_one_per_image(spec: str) -> None:
    deg, image = build_degradation(spec), _image(4, 3, 32, 32)
    params = deg.sample_params(4, _gen(1), image)
    assert all(v.shape == (4,) for v in params.values())
    out = deg.apply(image, params, _gen(2))
    assert out.shape == image.shape


def test_batch_images_get_different_parameters() -> None:
    """The same clean image repeated in a batch is degraded with different sigmas."""
    deg = build_degradation("noise:5-50")
    flat = torch.full((4, 3, 64, 64), 0.5)
    stds = (deg(flat, _gen(3)) - flat).std(dim=(1, 2, 3))
    assert stds.max() - stds.min() > 0.02


@pytest.mark.parametrize("spec", SPECS)
def test_pickle_roundtrip_and_params(spec: str) -> None:
    deg = build_degradation(spec)
    clone = pickle.loads(pickle.dumps(deg))
    image = _image(3, 32, 32)
    assert torch.equal(deg(image, _gen(2)), clone(image, _gen(2)))
    assert isinstance(deg, Degradation) and deg.name
    assert all(isinstance(v, float | int | str | bool) for v in deg.params().values())


def test_half_precision_keeps_dtype() -> None:
    image = _image(3, 32, 32).to(torch.bfloat16)
    out = build_degradation("haze+noise:25")(image, _gen(0))
    assert out.dtype == torch.bfloat16 and out.shape == image.shape


@pytest.mark.parametrize("bad", [torch.rand(32, 32), torch.rand(1, 1, 3, 8, 8)])
def test_rejects_bad_ndim(bad: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="expected a"):
        build_degradation("noise:25")(bad)


def test_rejects_integer_image() -> None:
    with pytest.raises(ValueError, match="float image"):
        build_degradation("noise:25")(torch.zeros(3, 8, 8, dtype=torch.uint8))
