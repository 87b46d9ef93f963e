"""pixel_loss / charbonnier_loss: smoke, exception, known values, gradcheck."""

import pytest
import torch
import torch.nn.functional as F

from baryir.losses import charbonnier_loss, pixel_loss


def test_l1_equals_torch() -> None:
    x, y = torch.rand(2, 3, 5, 5), torch.rand(2, 3, 5, 5)
    torch.testing.assert_close(pixel_loss(x, y), F.l1_loss(x, y))


def test_known_values() -> None:
    x, y = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.75)
    torch.testing.assert_close(pixel_loss(x, y), torch.tensor(0.75))
    # sqrt(0.75^2 + 1^2) = 1.25
    torch.testing.assert_close(charbonnier_loss(x, y, eps=1.0), torch.tensor(1.25))
    assert pixel_loss(x, y, reduction="none").shape == x.shape


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"kind": "l2"}, "kind"), ({"reduction": "x"}, "reduction")]
)
def test_exception_bad_option(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pixel_loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), **kwargs)


def test_exception_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="same shape"):
        pixel_loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 3))


def test_gradcheck_charbonnier() -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 3, 2, 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a: charbonnier_loss(a, y), (x,))
