"""transport_cost: smoke, exception, known values, gradcheck."""

import pytest
import torch

from baryir.losses import transport_cost


def test_smoke_shape() -> None:
    z = torch.randn(3, 4, 2, 2)
    assert transport_cost(z, torch.randn(3, 4, 2, 2)).shape == (3,)


def test_exception_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="same shape"):
        transport_cost(torch.zeros(2, 3), torch.zeros(2, 4))


def test_known_values() -> None:
    # sample 0 differs by 2 everywhere (rms 2, mse 4); sample 1 differs by 3 in 1 of 4 elements
    z = torch.zeros(2, 4)
    b = torch.tensor([[2.0, 2.0, 2.0, 2.0], [3.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(transport_cost(z, b, squared=True), torch.tensor([4.0, 2.25]))
    torch.testing.assert_close(transport_cost(z, b), torch.tensor([2.0, 1.5]))


def test_finite_gradient_at_zero_distance() -> None:
    z = torch.randn(2, 5, dtype=torch.float64)
    b = z.clone().requires_grad_(True)
    cost = transport_cost(z, b)
    cost.sum().backward()
    assert torch.all(cost <= 1e-6)
    assert torch.isfinite(b.grad).all()
    torch.testing.assert_close(b.grad, torch.zeros_like(b.grad))


@pytest.mark.parametrize("squared", [False, True])
def test_gradcheck(squared: bool) -> None:
    torch.manual_seed(0)
    z = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: transport_cost(x, y, squared=squared), (z, b))
