"""residual_contrast_loss: smoke, exception, known values, gradcheck."""

import math

import pytest
import torch

from baryir.losses import residual_contrast_loss


def test_smoke_shape() -> None:
    loss = residual_contrast_loss(torch.randn(6, 4, 2, 2), torch.tensor([0, 0, 1, 1, 2, 2]))
    assert loss.shape == (6,)
    assert torch.all(loss >= 0)


@pytest.mark.parametrize(
    ("labels", "temperature", "match"),
    [(torch.tensor([0, 1, 2]), 0.07, "labels"), (torch.tensor([0, 1]), 0.0, "temperature")],
)
def test_exception(labels: torch.Tensor, temperature: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        residual_contrast_loss(torch.randn(2, 4), labels, temperature)


def test_known_value_two_samples() -> None:
    # cos(r_0, r_1) = c; different labels: q = -log(e^{1/t} / (e^{1/t} + e^{c/t}))
    #                                        = log(1 + e^{(c - 1)/t})
    t = 0.5
    r = torch.tensor([[1.0, 0.0], [3.0, 4.0]])  # c = 0.6
    expected = math.log1p(math.exp((0.6 - 1.0) / t))
    torch.testing.assert_close(
        residual_contrast_loss(r, torch.tensor([0, 1]), t), torch.full((2,), expected)
    )
    # same label: every j is a positive, q = -log(1) = 0
    torch.testing.assert_close(residual_contrast_loss(r, torch.tensor([4, 4]), t), torch.zeros(2))


def test_stable_at_small_temperature() -> None:
    loss = residual_contrast_loss(torch.randn(8, 16), torch.arange(8) % 3, temperature=1e-4)
    assert torch.isfinite(loss).all()


def test_separated_clusters_lower_than_shuffled_labels() -> None:
    torch.manual_seed(0)
    centers = torch.eye(4, 32) * 5
    labels = torch.arange(4).repeat_interleave(4)
    r = centers[labels] + 0.3 * torch.randn(16, 32)
    aligned = residual_contrast_loss(r, labels).mean()
    shuffled = residual_contrast_loss(r, labels[torch.randperm(16)]).mean()
    assert aligned < 0.1 * shuffled


def test_gradcheck() -> None:
    torch.manual_seed(0)
    r = torch.randn(4, 3, 2, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 0, 2])
    assert torch.autograd.gradcheck(lambda x: residual_contrast_loss(x, labels, 0.5), (r,))
