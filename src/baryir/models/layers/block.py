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

    On a CPU without autograd (inference), an input of more than ``2 * band_elements`` values is
    processed in horizontal bands of about ``band_elements`` values (one-row halos for the 3x3
    convolutions; the attention's sums over pixels are accumulated band by band): the
    intermediate tensors stay small and cache-resident instead of fresh multi-hundred-MB
    buffers, with the same result up to float32 summation order.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``
    """

    band_elements: int = 2**20
    """Size of a band of the input, in values (rows x width x channels; see the class)."""

    def __init__(self, channels: int, num_heads: int, ffn_expansion_factor: float) -> None:
        super().__init__()
        self.norm1 = ChannelLayerNorm(channels)
        self.attn = TransposedAttention(channels, num_heads)
        self.norm2 = ChannelLayerNorm(channels)
        self.ffn = GatedFeedForward(channels, ffn_expansion_factor)

    def forward(self, x: Tensor) -> Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        band_rows = max(1, self.band_elements // (x.shape[-1] * x.shape[-3]))
        if not torch.is_grad_enabled() and x.device.type == "cpu" and x.shape[-2] > 2 * band_rows:
            return self.forward_bands(x, band_rows)
        # in-place adds on the branch outputs (fresh tensors no backward formula needs)
        x = self.attn(self.norm1(x)).add_(x)
        return self.ffn(self.norm2(x)).add_(x)

    def forward_bands(self, x: Tensor, band_rows: int) -> Tensor:
        """The forward of ``x`` (B, C, H, W) in bands of ``band_rows`` rows (no autograd)."""
        b, c, h, w = x.shape
        values = torch.empty(b, h * w, c, dtype=x.dtype, device=x.device)
        totals: list[Tensor] = []
        for band, rows in _bands(h, band_rows):
            q, k, v = self.attn.qkv_rows(self.norm1(x[:, :, band]), rows)
            values[:, (band.start + rows.start) * w : (band.start + rows.stop) * w] = v
            sums = self.attn.statistics(q, k)
            totals = [t + s for t, s in zip(totals, sums, strict=True)] if totals else list(sums)
        mixing = self.attn.mixing(*totals)
        # x + attention(x), written as one GEMM with accumulation into a copy of x
        x_flat = x.permute(0, 2, 3, 1).reshape(b, h * w, c)
        x = torch.baddbmm(x_flat, values, mixing.transpose(1, 2))
        x = x.view(b, h, w, c).permute(0, 3, 1, 2)
        del values
        out = torch.empty_like(x, memory_format=torch.channels_last)
        for band, rows in _bands(h, band_rows):
            kept = slice(band.start + rows.start, band.start + rows.stop)
            branch = self.ffn(self.norm2(x[:, :, band]), rows)
            torch.add(branch, x[:, :, kept], out=out[:, :, kept])
        return out


def _bands(height: int, band_rows: int) -> list[tuple[slice, slice]]:
    """Bands of ``band_rows`` rows: (input rows with one-row halos, output rows within them)."""
    bands = []
    for start in range(0, height, band_rows):
        stop = min(height, start + band_rows)
        lo, hi = max(0, start - 1), min(height, stop + 1)
        bands.append((slice(lo, hi), slice(start - lo, stop - lo)))
    return bands


def make_blocks(
    num_blocks: int, channels: int, num_heads: int, ffn_expansion_factor: float
) -> nn.Sequential:
    """``num_blocks`` :class:`TransformerBlock` in sequence (``nn.Sequential``, indexed 0..n-1)."""
    return nn.Sequential(
        *(TransformerBlock(channels, num_heads, ffn_expansion_factor) for _ in range(num_blocks))
    )
