"""Restormer transformer block."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from baryir.models.layers.attention import TransposedAttention
from baryir.models.layers.feedforward import GatedFeedForward
from baryir.models.layers.norm import ChannelLayerNorm

__all__ = ["TransformerBlock", "make_blocks"]


class TransformerBlock(nn.Module):
    """Pre-norm residual block: ``x + attn(norm1(x))`` then ``x + ffn(norm2(x))``.

    Args:
        channels: number of channels ``C``.
        num_heads: attention heads.
        ffn_expansion_factor: GDFN hidden width factor.

    Runs channels-last (CPU convolutions and the per-pixel norm are faster there): the input is
    converted once and the output is a channels-last ``(B, C, H, W)`` tensor.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int, num_heads: int, ffn_expansion_factor: float) -> None:
        super().__init__()
        self.norm1 = ChannelLayerNorm(channels)
        self.attn = TransposedAttention(channels, num_heads)
        self.norm2 = ChannelLayerNorm(channels)
        self.ffn = GatedFeedForward(channels, ffn_expansion_factor)

    def forward(self, x: Tensor) -> Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        # in-place adds on the branch outputs (fresh tensors no backward formula needs)
        x = self.attn(self.norm1(x)).add_(x)
        return self.ffn(self.norm2(x)).add_(x)


def make_blocks(
    num_blocks: int, channels: int, num_heads: int, ffn_expansion_factor: float
) -> nn.Sequential:
    """``num_blocks`` :class:`TransformerBlock` in sequence (``nn.Sequential``, indexed 0..n-1)."""
    return nn.Sequential(
        *(TransformerBlock(channels, num_heads, ffn_expansion_factor) for _ in range(num_blocks))
    )
