"""Dual potentials: released shapes, pooling modes, gathering."""

from __future__ import annotations

import pytest
import torch

from baryir.models import DualPotentials
from baryir.models.dual_potentials import released_side


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_released_shapes_and_count() -> None:
    f = DualPotentials(3, channels=384, patch_size=128, pooling="released")
    shapes = {k: tuple(v.shape) for k, v in f.state_dict().items()}
    assert shapes["potentials.0.conv.weight"] == (384, 96, 4, 4)
    assert shapes["potentials.0.fc1.weight"] == (1536, 6144)
    assert shapes["potentials.0.fc2.weight"] == (64, 1536)
    assert shapes["potentials.0.fc3.weight"] == (1, 64)
    assert sum(p.numel() for p in f.parameters()) == 30_380_931
    assert f.potentials[0].conv.bias is None
    assert abs(f.potentials[0].conv.weight.std().item() - 0.02) < 1e-3


def test_released_side() -> None:
    assert released_side(128) == 4
    assert released_side(64) == 2
    with pytest.raises(ValueError, match="multiple of 8"):
        released_side(100)


def test_forward_gathers_own_potential() -> None:
    f = DualPotentials(4, channels=16, patch_size=64)
    b = torch.randn(6, 16, 8, 8)
    source = torch.tensor([0, 3, 1, 2, 3, 0])
    values = f(b, source)
    everything = f.all_potentials(b)
    assert everything.shape == (6, 4) and values.shape == (6,)
    torch.testing.assert_close(values, everything[torch.arange(6), source])
    torch.testing.assert_close(everything[:, 2], f.potentials[2](b))


def test_adaptive_equals_released_at_training_size() -> None:
    released = DualPotentials(2, channels=16, patch_size=128, pooling="released")
    adaptive = DualPotentials(2, channels=16, patch_size=128, pooling="adaptive")
    adaptive.load_state_dict(released.state_dict())
    b = torch.randn(3, 16, 16, 16)
    torch.testing.assert_close(adaptive.all_potentials(b), released.all_potentials(b))
    assert adaptive.all_potentials(torch.randn(3, 16, 24, 40)).shape == (3, 2)
    with pytest.raises(ValueError, match="conv output"):
        released.all_potentials(torch.randn(3, 16, 24, 40))


def test_bad_inputs() -> None:
    f = DualPotentials(2, channels=16, patch_size=64)
    with pytest.raises(ValueError, match="source"):
        f(torch.randn(2, 16, 8, 8), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="expected b"):
        f.all_potentials(torch.randn(2, 8, 8, 8))
    with pytest.raises(ValueError, match="pooling"):
        DualPotentials(2, pooling="max")  # type: ignore[arg-type]


def test_gradients_reach_every_parameter() -> None:
    f = DualPotentials(3, channels=16, patch_size=64)
    b = torch.randn(4, 16, 8, 8, requires_grad=True)
    (f(b, torch.tensor([0, 1, 2, 1])).sum() + f.all_potentials(b).square().mean()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in f.parameters())
    assert b.grad is not None
