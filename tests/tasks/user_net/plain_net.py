"""A user's own network, outside the package: an ``nn.Module`` whose forward returns the
restored image and nothing else (no latent, no barycenter, no ``RestorationOutput``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class PlainUserNet(nn.Module):
    """``(B, 3, H, W) -> (B, 3, H, W)`` for even ``H, W`` (it halves, then doubles the size).

    Args:
        width: channels of the half-size features.
    """

    stride = 2

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, width, 3, stride=2, padding=1)
        self.up = nn.Sequential(nn.Conv2d(width, 3 * 4, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.up(torch.relu(self.down(x)))
