"""Channel layer normalisation of Restormer ("WithBias")."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ChannelLayerNorm"]


class ChannelLayerNorm(nn.Module):
    """Normalise each pixel's channel vector: ``(x - mean) / sqrt(var + eps) * weight + bias``.

    The variance is the biased one, over the channels only. On a channels-last tensor the
    per-pixel channel vectors are contiguous, so this is one ``F.layer_norm`` pass with no copy;
    the output is channels-last whatever the input's layout (the layout the blocks run in).

    Args:
        channels: number of channels ``C``.
        eps: added to the variance.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        y = F.layer_norm(x.permute(0, 2, 3, 1), self.weight.shape, self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)
