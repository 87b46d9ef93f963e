"""Transport cost between the source latent ``z`` and its barycenter embedding ``b``."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["transport_cost"]


def transport_cost(
    source_latent: Tensor, barycenter: Tensor, squared: bool = False, eps: float = 1e-12
) -> Tensor:
    r"""Per-sample transport cost ``c(z_i, b_i)``.

    .. math::

        c_i = \sqrt{\operatorname{mean}\big((z_i - b_i)^2\big) + \epsilon}
        \quad\text{(paper, "rms")}, \qquad
        c_i = \operatorname{mean}\big((z_i - b_i)^2\big) \quad\text{(squared)}

    The mean runs over every element of sample ``i``. ``eps`` is added inside the square root
    only, so the gradient stays finite (and equals zero) at ``z_i == b_i``; it biases the value
    by at most ``sqrt(eps)`` (1e-6 with the default). The squared cost needs no ``eps``.

    Args:
        source_latent: ``z`` of shape :math:`(B, *)`.
        barycenter: ``b`` of the same shape.
        squared: return the mean squared error instead of its root.
        eps: small positive constant inside the square root.

    Returns:
        Tensor of shape :math:`(B,)`.

    Example:
        >>> z = torch.zeros(2, 4, 3, 3)
        >>> transport_cost(z, z + 1.0).round()
        tensor([1., 1.])
    """
    if source_latent.shape != barycenter.shape:
        raise ValueError(
            f"transport_cost: source_latent {tuple(source_latent.shape)} and barycenter "
            f"{tuple(barycenter.shape)} must have the same shape"
        )
    if source_latent.dim() < 1:
        raise ValueError("transport_cost: inputs need a batch dimension, got a scalar")
    mse = (source_latent - barycenter).pow(2).flatten(1).mean(dim=1)
    if squared:
        return mse
    return torch.sqrt(mse + eps)
