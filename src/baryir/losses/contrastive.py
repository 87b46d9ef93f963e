"""Supervised InfoNCE contrast between the residual embeddings of the batch."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["residual_contrast_loss"]


def residual_contrast_loss(residual: Tensor, labels: Tensor, temperature: float = 0.07) -> Tensor:
    r"""Per-sample residual contrast (supervised InfoNCE, positives include ``j = i``).

    .. math::

        s_{ij} = \langle n(r_i), n(r_j) \rangle / t, \qquad
        q_i = -\log \frac{\sum_{j:\, y_j = y_i} e^{s_{ij}}}{\sum_{j} e^{s_{ij}}}
            = \operatorname{LSE}_j(s_{ij}) - \operatorname{LSE}_{j:\, y_j = y_i}(s_{ij})

    computed with two ``logsumexp`` for stability. ``n`` L2-normalises the flattened sample.
    Since ``j = i`` is always a positive, :math:`q_i \ge 0` and is finite; it is 0 when every
    sample of the batch shares one label.

    Args:
        residual: ``r`` of shape :math:`(B, *)`.
        labels: fine degradation ids ``y`` of shape :math:`(B,)` (integer).
        temperature: ``t > 0`` (paper: 0.07).

    Returns:
        Tensor of shape :math:`(B,)`.

    Example:
        >>> r = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> residual_contrast_loss(r, torch.tensor([0, 1]), temperature=1.0)
        tensor([0.3133, 0.3133])
    """
    if residual.dim() < 2:
        raise ValueError(
            f"residual_contrast_loss: residual needs shape (B, *), got {residual.shape}"
        )
    if labels.shape != residual.shape[:1]:
        raise ValueError(
            f"residual_contrast_loss: labels must have shape ({residual.shape[0]},), "
            f"got {tuple(labels.shape)}"
        )
    if temperature <= 0:
        raise ValueError(f"residual_contrast_loss: temperature must be > 0, got {temperature}")
    n = F.normalize(residual.flatten(1), dim=1)
    logits = (n @ n.transpose(0, 1)) / temperature
    positive = labels.unsqueeze(0) == labels.unsqueeze(1)
    positive_logits = logits.masked_fill(~positive, float("-inf"))
    return logits.logsumexp(dim=1) - positive_logits.logsumexp(dim=1)
