"""Orthogonality between the barycenter embeddings and the residual embeddings."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["orthogonality_loss"]


def orthogonality_loss(barycenter: Tensor, residual: Tensor) -> Tensor:
    r"""Per-sample orthogonality penalty between ``b`` and the residuals of the batch.

    .. math::

        o_i = \sum_{j=1}^{B} \langle n(b_i), n(r_j) \rangle^2, \qquad
        n(x) = x / \max(\lVert x \rVert_2, 10^{-12})

    with every tensor flattened per sample, so :math:`o_i \in [0, B]`.

    Args:
        barycenter: ``b`` of shape :math:`(B, *)`.
        residual: ``r = z - b`` of shape :math:`(B, *)` (same number of elements per sample).

    Returns:
        Tensor of shape :math:`(B,)`.

    Example:
        >>> b = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> r = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
        >>> orthogonality_loss(b, r)
        tensor([0.5000, 0.5000])
    """
    if barycenter.dim() < 2 or residual.dim() < 2:
        raise ValueError(
            "orthogonality_loss: barycenter and residual need shape (B, *), got "
            f"{tuple(barycenter.shape)} and {tuple(residual.shape)}"
        )
    if barycenter.shape[0] != residual.shape[0] or barycenter[0].numel() != residual[0].numel():
        raise ValueError(
            f"orthogonality_loss: barycenter {tuple(barycenter.shape)} and residual "
            f"{tuple(residual.shape)} must have the same batch size and sample size"
        )
    nb = F.normalize(barycenter.flatten(1), dim=1)
    nr = F.normalize(residual.flatten(1), dim=1)
    return (nb @ nr.transpose(0, 1)).pow(2).sum(dim=1)
