"""Gated-Dconv feed-forward network (GDFN) of Restormer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GatedFeedForward"]

CHANNEL_ALIGNMENT = 16
"""The hidden width is zero-padded to a multiple of this in the forward (SIMD and GEMM tiles)."""


class GatedFeedForward(nn.Module):
    """GDFN: ``conv1x1(gelu(x1) * x2)`` with ``x1, x2 = split(dwconv3x3(conv1x1(x)))``.

    The hidden width is ``int(channels * expansion_factor)``; GELU is the exact (erf) one and
    gates with the first half. No conv bias.

    Args:
        channels: number of channels ``C``.
        expansion_factor: hidden width factor (2.66 in Restormer).

    The forward runs channels-last, computes the two halves with separate convolutions (the
    same weights, sliced) and zero-pads the hidden width to a multiple of 16 (127 -> 128 at
    ``C = 48``: the padded channels are exactly zero and meet zero output weights), which equals
    the formula above exactly; the parameters keep the released shapes.

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

    def forward(self, x: Tensor, rows: slice = slice(None)) -> Tensor:
        """GDFN of ``x`` (B, C, H, W); ``rows`` selects the output rows to compute.

        With ``rows`` the input is a horizontal band holding those rows plus, where the image
        continues, one neighbouring row on each side (the 3x3 convolution's halo): the result
        equals the rows of the GDFN of the whole image. Returns ``(B, C, len(rows), W)``,
        channels-last.
        """
        x = x.contiguous(memory_format=torch.channels_last)
        hidden, channels = self.project_out.in_channels, self.project_out.out_channels
        extra = -hidden % CHANNEL_ALIGNMENT
        w_in, w_dw = self.project_in.weight, self.dwconv.weight
        # the two halves as separate convolutions: contiguous channels-last outputs, so the gate
        # runs on contiguous memory (chunking one channels-last tensor gives strided halves)
        halves = []
        for half in (slice(0, hidden), slice(hidden, 2 * hidden)):
            weight_in = _zero_padded(w_in[half], (extra, channels, 1, 1), dim=0)
            weight_dw = _zero_padded(w_dw[half], (extra, 1, 3, 3), dim=0)
            mixed = F.conv2d(F.conv2d(x, weight_in), weight_dw, padding=1, groups=hidden + extra)
            halves.append(mixed[:, :, rows])
        gate, value = halves
        gated = F.gelu(gate)
        gated = gated * value if torch.is_grad_enabled() else gated.mul_(value)
        weight_out = _zero_padded(self.project_out.weight, (channels, extra, 1, 1), dim=1)
        return F.conv2d(gated, weight_out)


def _zero_padded(weight: Tensor, zeros: tuple[int, int, int, int], dim: int) -> Tensor:
    """``weight`` with a block of zeros of shape ``zeros`` appended along ``dim``.

    A concatenation with a zeros tensor of a fixed shape (not ``F.pad``), so the padded weight
    has a static shape when the network is traced for ONNX export.
    """
    if zeros[dim] == 0:
        return weight
    return torch.cat([weight, weight.new_zeros(zeros)], dim=dim)
