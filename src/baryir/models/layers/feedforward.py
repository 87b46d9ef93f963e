"""Gated-Dconv feed-forward network (GDFN) of Restormer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GatedFeedForward"]


class GatedFeedForward(nn.Module):
    """GDFN: ``conv1x1(gelu(x1) * x2)`` with ``x1, x2 = split(dwconv3x3(conv1x1(x)))``.

    The hidden width is ``int(channels * expansion_factor)``; GELU is the exact (erf) one and
    gates with the first half. No conv bias.

    Args:
        channels: number of channels ``C``.
        expansion_factor: hidden width factor (2.66 in Restormer).

    The forward runs channels-last and computes the two halves with separate convolutions
    (the same weights, sliced), which equals the formula above exactly.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int, expansion_factor: float) -> None:
        super().__init__()
        hidden = int(channels * expansion_factor)
        self.project_in = nn.Conv2d(channels, hidden * 2, kernel_size=1, bias=False)
        self.dwconv = nn.Conv2d(
            hidden * 2, hidden * 2, kernel_size=3, padding=1, groups=hidden * 2, bias=False
        )
        self.project_out = nn.Conv2d(hidden, channels, kernel_size=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        hidden = self.project_out.in_channels
        w_in, w_dw = self.project_in.weight, self.dwconv.weight
        # the two halves as separate convolutions: contiguous channels-last outputs, so the gate
        # runs on contiguous memory (chunking one channels-last tensor gives strided halves)
        gate = F.conv2d(F.conv2d(x, w_in[:hidden]), w_dw[:hidden], padding=1, groups=hidden)
        value = F.conv2d(F.conv2d(x, w_in[hidden:]), w_dw[hidden:], padding=1, groups=hidden)
        gated = F.gelu(gate)
        gated = gated * value if torch.is_grad_enabled() else gated.mul_(value)
        return self.project_out(gated)
