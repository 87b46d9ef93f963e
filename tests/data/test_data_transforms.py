"""Paired crop and the 8 dihedral modes."""

from __future__ import annotations

import pytest
import torch

from baryir.data.transforms import PairedRandomCrop, center_crop, dihedral, ensure_min_size


def test_eight_distinct_dihedral_modes() -> None:
    image = torch.arange(12.0).view(1, 3, 4)[:, :3, :3]
    outs = {tuple(dihedral(image, mode).flatten().tolist()) for mode in range(8)}
    assert len(outs) == 8
    assert torch.equal(dihedral(image, 0), image)
    with pytest.raises(ValueError, match="0..7"):
        dihedral(image, 8)


def test_same_crop_and_mode_on_input_and_target() -> None:
    torch.manual_seed(0)
    target = torch.rand(3, 50, 70)
    degraded = 1 - target
    crop = PairedRandomCrop(32)
    modes = set()
    for _ in range(64):
        x, y = crop(degraded, target)
        assert x.shape == y.shape == (3, 32, 32) and x.is_contiguous()
        torch.testing.assert_close(x, 1 - y)
        modes.add(tuple(y[0, 0, :2].tolist()))
    assert len(modes) > 8


def test_generator_makes_crops_reproducible() -> None:
    image = torch.rand(3, 40, 40)
    crop = PairedRandomCrop(16)
    a = crop(image, generator=torch.Generator().manual_seed(3))[0]
    b = crop(image, generator=torch.Generator().manual_seed(3))[0]
    assert torch.equal(a, b)


@pytest.mark.parametrize(("height", "width"), [(20, 100), (5, 5), (1, 3)])
def test_small_images_are_padded(height: int, width: int) -> None:
    image = torch.rand(3, height, width)
    out = ensure_min_size(image, 32, "pad")
    assert out.shape[-2] >= 32 and out.shape[-1] >= 32
    torch.testing.assert_close(out[:, :height, :width], image)
    x, y = PairedRandomCrop(32)(image, image.clone())
    assert x.shape == (3, 32, 32) and torch.equal(x, y)


def test_small_images_upscale_keeps_aspect() -> None:
    out = ensure_min_size(torch.rand(3, 16, 32), 64, "upscale")
    assert out.shape == (3, 64, 128)
    assert out.min() >= 0 and out.max() <= 1


def test_mismatched_pair_raises() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        PairedRandomCrop(8)(torch.rand(3, 10, 10), torch.rand(3, 10, 12))


def test_center_crop() -> None:
    image = torch.arange(36.0).view(1, 6, 6)
    assert center_crop(image, 2).flatten().tolist() == [14.0, 15.0, 20.0, 21.0]
