"""baryir.inference: tiled forward passes equal untiled ones; restore() and its OOM fallback."""

from __future__ import annotations

import logging
from typing import NamedTuple

import pytest
import torch
from torch import Tensor, nn

from baryir.inference import blend_ramp, restore, tile_starts, tiled_forward
from tolerance import float32_sum_bound


def _image(*shape: int, seed: int = 0) -> Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def _pointwise(x: Tensor) -> Tensor:
    return torch.sigmoid(3 * x - 1) * x


def _blend_tolerance(values: Tensor) -> float:
    """A blend of one value from up to 4 overlapping tiles, ``sum w v / sum w`` in float32:
    the weights' product, ``w v`` and 4 additions above, 4 additions below, the division: at
    most 12 roundings of ``|v|`` (the tiles' values are the untiled ones bitwise)."""
    return float32_sum_bound(6, values.abs().max())


def test_tile_starts_cover_and_shift_last_inward() -> None:
    assert tile_starts(100, 32, 24) == [0, 24, 48, 68]
    assert tile_starts(56, 32, 24) == [0, 24]
    assert tile_starts(20, 32, 24) == [0]
    assert tile_starts(32, 32, 24) == [0]


def test_blend_ramp_positive_and_one_at_borders() -> None:
    ramp = blend_ramp(32, 8, ramp_start=True, ramp_end=False)
    assert float(ramp.min()) > 0 and float(ramp[-1]) == 1.0 and float(ramp[8]) == 1.0
    assert torch.all(ramp[:8].diff() > 0)
    assert torch.equal(blend_ramp(32, 8, False, False), torch.ones(32))


def test_pointwise_fn_equals_untiled() -> None:
    image = _image(2, 3, 100, 77)
    tiled = tiled_forward(_pointwise, image, tile=32, overlap=8)
    expected = _pointwise(image)
    torch.testing.assert_close(tiled, expected, atol=_blend_tolerance(expected), rtol=0)


def test_constant_output_has_no_seams() -> None:
    out = tiled_forward(lambda x: torch.full_like(x, 0.25), _image(1, 3, 100, 77), 32, 8)
    expected = torch.full_like(out, 0.25)
    torch.testing.assert_close(out, expected, atol=_blend_tolerance(expected), rtol=0)


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap"), [(100, 77, 32, 8), (65, 129, 64, 0)]
)
def test_odd_sizes_cover_every_pixel(height: int, width: int, tile: int, overlap: int) -> None:
    seen = []

    def record(x: Tensor) -> Tensor:
        seen.append(tuple(x.shape[-2:]))
        return x + 1

    image = _image(1, 3, height, width)
    out = tiled_forward(record, image, tile, overlap)
    torch.testing.assert_close(out, image + 1, atol=_blend_tolerance(image + 1), rtol=0)
    assert all(shape == (min(tile, height), min(tile, width)) for shape in seen)


def test_small_conv_net_close_to_untiled() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 3, 3, padding=1))
    image = _image(1, 3, 100, 77)
    with torch.no_grad():
        full = net(image)
    tiled = tiled_forward(net, image, tile=48, overlap=16)  # receptive field 5 << overlap 16
    error = (tiled - full).abs()
    # a tile's 2 edge pixels see zero padding, but the ramp weights them by sin^2(pi/64) ~ 0.0024
    # against ~1 from the neighbour: measured max 2.1e-3, mean 3.6e-5
    assert float(error.max()) < 5e-3
    assert float(error.mean()) < 1e-4


def test_image_smaller_than_tile_runs_once_and_channels_may_change() -> None:
    calls = []

    def to_gray(x: Tensor) -> Tensor:
        calls.append(x.shape)
        return x.mean(dim=1, keepdim=True)

    image = _image(2, 3, 20, 30)
    out = tiled_forward(to_gray, image, tile=64, overlap=16)
    assert len(calls) == 1 and out.shape == (2, 1, 20, 30)
    # one tile, no blend: the same mean, bitwise
    torch.testing.assert_close(out, image.mean(dim=1, keepdim=True), rtol=0, atol=0)


def test_tiled_forward_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="overlap"):
        tiled_forward(_pointwise, _image(1, 3, 8, 8), tile=8, overlap=8)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        tiled_forward(_pointwise, _image(3, 8, 8), tile=4, overlap=1)
    with pytest.raises(ValueError, match="spatial size"):
        tiled_forward(lambda x: x[..., :-1], _image(1, 3, 16, 16), tile=8, overlap=2)


class _Output(NamedTuple):
    restored: Tensor
    source_latent: Tensor


class _PointwiseModel(nn.Module):
    """Pointwise toy restorer; raises out-of-memory on inputs above ``max_pixels``."""

    def __init__(self, max_pixels: int | None = None, named_tuple: bool = True) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.5))
        self.max_pixels = max_pixels
        self.named_tuple = named_tuple
        self.calls: list[tuple[int, ...]] = []
        self.modes: list[bool] = []

    def forward(self, x: Tensor) -> _Output | Tensor:
        self.calls.append(tuple(x.shape))
        self.modes.append(self.training)
        if self.max_pixels is not None and x.shape[-2] * x.shape[-1] > self.max_pixels:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        restored = x * self.scale - 0.1
        return _Output(restored, x[:, :, ::8, ::8]) if self.named_tuple else restored


def _expected(image: Tensor) -> Tensor:
    return (image * 1.5 - 0.1).clamp(0, 1)


@pytest.mark.parametrize("named_tuple", [True, False])
def test_restore_shapes_clamp_eval_and_no_grad(named_tuple: bool) -> None:
    model = _PointwiseModel(named_tuple=named_tuple)
    model.train()
    image = _image(3, 40, 24)
    out = restore(model, image)
    assert out.shape == (3, 40, 24) and not out.requires_grad and not out.is_inference()
    # untiled: the same elementwise operations, bitwise
    torch.testing.assert_close(out, _expected(image), rtol=0, atol=0)
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0  # clamped
    assert model.modes == [False] and model.training  # ran in eval, mode restored
    batch = _image(2, 3, 40, 24)
    tiled = restore(model, batch, tile=16, tile_overlap=4)
    torch.testing.assert_close(tiled, _expected(batch), atol=_blend_tolerance(batch * 1.5), rtol=0)


def test_restore_falls_back_to_tiles_on_oom(caplog: pytest.LogCaptureFixture) -> None:
    model = _PointwiseModel(max_pixels=150 * 150)
    image = _image(1, 3, 300, 200)
    with caplog.at_level(logging.WARNING, logger="baryir.inference.restoring"):
        out = restore(model, image)
    atol = _blend_tolerance(image * 1.5)  # blended before the clamp
    torch.testing.assert_close(out, _expected(image), atol=atol, rtol=0)
    assert model.calls[0] == (1, 3, 300, 200)  # the full pass was tried first
    assert (1, 3, 128, 128) in model.calls  # 256-pixel tiles failed, 128 worked
    assert "out of memory" in caplog.text and "128-pixel tiles" in caplog.text


def test_restore_halves_a_given_tile_and_reraises_at_the_minimum() -> None:
    model = _PointwiseModel(max_pixels=100 * 100)
    image = _image(1, 3, 200, 160)
    atol = _blend_tolerance(image * 1.5)  # blended before the clamp
    torch.testing.assert_close(restore(model, image, tile=256), _expected(image), atol=atol, rtol=0)
    assert max(call[-2] for call in model.calls[-4:]) == 64
    with pytest.raises(torch.OutOfMemoryError):
        restore(_PointwiseModel(max_pixels=10), image)


def test_restore_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        restore(_PointwiseModel(), _image(1, 40, 24))
    with pytest.raises(ValueError, match="float"):
        restore(_PointwiseModel(), torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="restored"):
        restore(_DictModel(), _image(3, 8, 8))


class _DictModel(nn.Module):
    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return {"restored": x}


def test_restore_is_the_function_not_its_module() -> None:
    import baryir.inference
    import baryir.inference.restoring

    assert baryir.inference.restore is baryir.inference.restoring.restore
