"""Multi-Dconv head transposed attention (MDTA) of Restormer."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["TransposedAttention"]

EPS = 1e-12
"""Lower bound of the q and k norms (``F.normalize``'s default)."""


class TransposedAttention(nn.Module):
    """Attention across channels (MDTA): a ``(C/h, C/h)`` attention map per head.

    ``qkv = dwconv3x3(conv1x1(x))`` split into q, k, v (in that order); heads are contiguous
    channel groups; q and k are L2-normalised along the flattened spatial axis;
    ``out = softmax(q @ k^T * temperature) @ v`` followed by a 1x1 projection. No conv bias.

    Args:
        channels: number of channels ``C`` (divisible by ``num_heads``).
        num_heads: number of heads ``h``.

    The forward runs channels-last (the output is a channels-last ``(B, C, H, W)`` tensor),
    takes the norms of q and k instead of normalising them and folds ``project_out`` into the
    attention map (a ``(C, C)`` matrix per sample); the results equal the formula above up to
    float32 rounding (``benchmarks/reference_layers.py`` keeps the plain version).

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
        q, k, v = self.qkv_rows(x)
        out = v @ self.mixing(*self.statistics(q, k)).transpose(1, 2)
        return out.view(b, h, w, c).permute(0, 3, 1, 2)

    def qkv_rows(self, x: Tensor, rows: slice = slice(None)) -> tuple[Tensor, Tensor, Tensor]:
        """q, k and v of ``x`` (B, C, H, W), each ``(B, N, C)`` with ``N`` pixels in row order.

        ``rows`` selects output rows, as in :meth:`GatedFeedForward.forward`: the input is then
        a band holding them plus a one-row halo wherever the image continues.
        """
        b, c = x.shape[:2]
        qkv = self.qkv_dwconv(self.qkv(x.contiguous(memory_format=torch.channels_last)))
        qkv = qkv[:, :, rows]
        # channels-last: (B, N, 3C) is a view, so q, k, v are strided views (no copies)
        return qkv.permute(0, 2, 3, 1).reshape(b, -1, 3 * c).split(c, dim=-1)

    def statistics(self, q: Tensor, k: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Sums over the pixels of ``q`` and ``k`` (B, N, C): sums of bands add up to the image's.

        Returns the per-head ``q^T k`` (B, h, C/h, C/h) and the squared norms of the q and k
        channels, (B, C) each.
        """
        heads, width = self.num_heads, q.shape[-1] // self.num_heads
        gram = q.unflatten(-1, (heads, width)).permute(0, 2, 3, 1) @ k.unflatten(
            -1, (heads, width)
        ).transpose(1, 2)
        # a squared copy summed over the contiguous pixel axis: far faster than a norm over the
        # strided q and k views
        return gram, q.square().sum(dim=1), k.square().sum(dim=1)

    def mixing(self, gram: Tensor, q_squares: Tensor, k_squares: Tensor) -> Tensor:
        """The ``(B, C, C)`` matrix ``M`` with ``attention output = v @ M^T`` (see the class)."""
        b, heads, width = gram.shape[0], self.num_heads, gram.shape[-1]
        c = heads * width
        # F.normalize(q) @ F.normalize(k)^T == (q @ k^T) / (|q| |k|^T): the norms scale the
        # small (C/h, C/h) map instead of writing normalised copies of q and k
        q_norm = q_squares.clamp_min(EPS**2).sqrt().view(b, heads, width, 1)
        k_norm = k_squares.clamp_min(EPS**2).sqrt().view(b, heads, 1, width)
        attn = (gram / (q_norm * k_norm) * self.temperature).softmax(dim=-1)
        # project_out(attn @ v) == v @ (W diag(attn_1..attn_h))^T: fold the 1x1 projection into
        # one (C, C) matrix per sample and apply it in a single product
        weight = self.project_out.weight.view(c, heads, width).transpose(0, 1)
        return (weight @ attn).permute(0, 2, 1, 3).reshape(b, c, c)
