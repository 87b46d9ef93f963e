"""orthogonality_loss: smoke, exception, known values, gradcheck."""

import pytest
import torch

from baryir.losses import orthogonality_loss


def test_smoke_shape() -> None:
    assert orthogonality_loss(torch.randn(5, 4, 3, 3), torch.randn(5, 4, 3, 3)).shape == (5,)


def test_exception_batch_mismatch() -> None:
    with pytest.raises(ValueError, match="same batch size"):
        orthogonality_loss(torch.randn(2, 4), torch.randn(3, 4))


def test_zero_for_orthogonal() -> None:
    # barycenters live in the first 2 coordinates, residuals in the last 2
    b = torch.cat([torch.randn(4, 2), torch.zeros(4, 2)], dim=1)
    r = torch.cat([torch.zeros(4, 2), torch.randn(4, 2)], dim=1)
    torch.testing.assert_close(orthogonality_loss(b, r), torch.zeros(4))


def test_positive_otherwise() -> None:
    torch.manual_seed(0)
    assert torch.all(orthogonality_loss(torch.randn(4, 8), torch.randn(4, 8)) > 0)


def test_known_value_hand_case() -> None:
    # n(b_0) = e1, n(b_1) = (e1 + e2)/sqrt(2); n(r_0) = e1, n(r_1) = e2
    # o_0 = 1^2 + 0^2 = 1; o_1 = (1/sqrt2)^2 + (1/sqrt2)^2 = 1; scaling must not matter
    b = torch.tensor([[3.0, 0.0], [2.0, 2.0]])
    r = torch.tensor([[0.5, 0.0], [0.0, 7.0]])
    torch.testing.assert_close(orthogonality_loss(b, r), torch.tensor([1.0, 1.0]))
    # identical directions: every cosine is 1, o_i = B
    torch.testing.assert_close(
        orthogonality_loss(torch.ones(3, 4), 2 * torch.ones(3, 4)), torch.full((3,), 3.0)
    )


def test_gradcheck() -> None:
    torch.manual_seed(0)
    b = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    r = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(orthogonality_loss, (b, r))
