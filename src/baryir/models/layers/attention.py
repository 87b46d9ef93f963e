"""Multi-Dconv head transposed attention (MDTA) of Restormer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TransposedAttention"]


class TransposedAttention(nn.Module):
    """Attention across channels (MDTA): a ``(C/h, C/h)`` attention map per head.

    ``qkv = dwconv3x3(conv1x1(x))`` split into q, k, v (in that order); heads are contiguous
    channel groups; q and k are L2-normalised along the flattened spatial axis;
    ``out = softmax(q @ k^T * temperature) @ v`` followed by a 1x1 projection. No conv bias.

    Args:
        channels: number of channels ``C`` (divisible by ``num_heads``).
        num_heads: number of heads ``h``.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        if channels % num_heads != 0:
            raise ValueError(
                f"TransposedAttention: channels={channels} not divisible by heads={num_heads}"
            )
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(channels, channels * 3, kernel_size=1, bias=False)
        self.qkv_dwconv = nn.Conv2d(
            channels * 3, channels * 3, kernel_size=3, padding=1, groups=channels * 3, bias=False
        )
        self.project_out = nn.Conv2d(channels, channels, kernel_size=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)
        q = F.normalize(q.reshape(b, self.num_heads, c // self.num_heads, h * w), dim=-1)
        k = F.normalize(k.reshape(b, self.num_heads, c // self.num_heads, h * w), dim=-1)
        v = v.reshape(b, self.num_heads, c // self.num_heads, h * w)
        attn = (q @ k.transpose(-2, -1)) * self.temperature
        out = attn.softmax(dim=-1) @ v
        return self.project_out(out.reshape(b, c, h, w))
