"""AdaIR's frequency mining and modulation module (Cui et al., ICLR 2025) and its parts."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CrossChannelAttention", "FrequencyModule", "FrequencyRefine", "frequency_split"]

BAND_UNIT = 128
"""Pixels per unit of the low band's half side: a side under 128 has an empty low band."""


class CrossChannelAttention(nn.Module):
    """Restormer's transposed attention with q from ``a`` and k, v from ``b``.

    ``q = dwconv3x3(conv1x1(a))``, ``k, v = chunk(dwconv3x3(conv1x1(b)))``; heads are contiguous
    channel groups; q and k L2-normalised over the pixels; ``softmax(q k^T * temperature) v``,
    then a 1x1 projection.

    Args:
        channels: ``C`` (divisible by ``num_heads``).
        num_heads: heads.
        bias: whether the convs have a bias.

    Shape:
        ``a (B, C, H, W), b (B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int, num_heads: int, bias: bool) -> None:
        super().__init__()
        if channels % num_heads != 0:
            raise ValueError(
                f"CrossChannelAttention: channels={channels} not divisible by heads={num_heads}"
            )
        c = channels
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.q = nn.Conv2d(c, c, kernel_size=1, bias=bias)
        self.q_dwconv = nn.Conv2d(c, c, kernel_size=3, padding=1, groups=c, bias=bias)
        self.kv = nn.Conv2d(c, 2 * c, kernel_size=1, bias=bias)
        self.kv_dwconv = nn.Conv2d(2 * c, 2 * c, kernel_size=3, padding=1, groups=2 * c, bias=bias)
        self.project_out = nn.Conv2d(c, c, kernel_size=1, bias=bias)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        batch, c, h, w = a.shape
        q = self.q_dwconv(self.q(a))
        k, v = self.kv_dwconv(self.kv(b)).chunk(2, dim=1)
        q, k, v = (t.reshape(batch, self.num_heads, c // self.num_heads, h * w) for t in (q, k, v))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1) * self.temperature).softmax(dim=-1)
        return self.project_out((attn @ v).reshape(batch, c, h, w))


class FrequencyRefine(nn.Module):
    """Fuse the bands: ``high * channel gate(low) + low * spatial gate(high)``, then a 1x1.

    Channel gate: ``sigmoid(mlp(avgpool(low)) + mlp(maxpool(low)))``, ``mlp`` 1x1 ``C -> C/16``,
    ReLU, 1x1 back (no bias). Spatial gate: ``sigmoid(conv7x7(cat[max_C high, mean_C high]))``.

    Shape:
        ``low, high (B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = channels // 16
        self.channel_gate = nn.Sequential(
            nn.Conv2d(channels, hidden, kernel_size=1, bias=False),
            nn.ReLU(),
            nn.Conv2d(hidden, channels, kernel_size=1, bias=False),
        )
        self.spatial_gate = nn.Conv2d(2, 1, kernel_size=7, padding=3, bias=False)
        self.proj = nn.Conv2d(channels, channels, kernel_size=1)

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        gate = self.channel_gate
        channel = torch.sigmoid(
            gate(F.adaptive_avg_pool2d(low, 1)) + gate(F.adaptive_max_pool2d(low, 1))
        )
        pooled = torch.cat([high.amax(dim=1, keepdim=True), high.mean(dim=1, keepdim=True)], dim=1)
        spatial = torch.sigmoid(self.spatial_gate(pooled))
        return self.proj(high * channel + low * spatial)


def frequency_split(features: Tensor, rates: Tensor) -> tuple[Tensor, Tensor]:
    """Split ``features`` (B, C, H, W) into a high and a low band by a centred box in the spectrum.

    For sample ``i`` the box's half sides are ``int((H // 128) * rates[i, 0])`` rows and
    ``int((W // 128) * rates[i, 1])`` columns around the centre of the ``fft2`` (``norm=
    "forward"``) shifted by half the sides; ``low`` is ``|ifft2|`` of the spectrum inside the box,
    ``high`` of the rest (both real, non-negative).

    Args:
        features: ``(B, C, H, W)``.
        rates: ``(B, 2)`` in [0, 1].

    Returns:
        ``(high, low)``, each ``(B, C, H, W)``.
    """
    h, w = features.shape[-2:]
    half_h = ((h // BAND_UNIT) * rates[:, 0]).int().view(-1, 1, 1)
    half_w = ((w // BAND_UNIT) * rates[:, 1]).int().view(-1, 1, 1)
    rows = torch.arange(h, device=features.device).view(1, h, 1)
    cols = torch.arange(w, device=features.device).view(1, 1, w)
    inside = (
        (rows >= h // 2 - half_h)
        & (rows < h // 2 + half_h)
        & (cols >= w // 2 - half_w)
        & (cols < w // 2 + half_w)
    )
    # the box is drawn on the spectrum rolled by half the sides; roll the mask back instead
    mask = torch.roll(inside, shifts=(-int(h / 2), -int(w / 2)), dims=(1, 2)).unsqueeze(1)
    spectrum = torch.fft.fft2(features, norm="forward")
    zero = torch.zeros((), dtype=spectrum.dtype, device=spectrum.device)
    high = torch.fft.ifft2(torch.where(mask, zero, spectrum), norm="forward").abs()
    low = torch.fft.ifft2(torch.where(mask, spectrum, zero), norm="forward").abs()
    return high, low


class FrequencyModule(nn.Module):
    """AdaIR's FreModule: modulate decoder features by the image's frequency bands.

    The image is resized (bilinear) to the features' size and embedded (3x3 conv, no bias);
    rates ``sigmoid(rate_conv(avgpool))`` set the low band's box (:func:`frequency_split`);
    each band attends to the features (:class:`CrossChannelAttention`, bands as queries), the
    two are fused (:class:`FrequencyRefine`) and the features attend to the fusion;
    ``out = attended * para1 + features * para2`` (``para1`` starts at 0, ``para2`` at 1).

    Args:
        channels: feature channels ``C``.
        num_heads: heads of the three cross attentions.
        bias: whether the attention convs have a bias.
        in_channels: image channels.

    Shape:
        ``image (B, Cin, H0, W0), features (B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int, num_heads: int, bias: bool, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False)
        self.rate_conv = nn.Sequential(
            nn.Conv2d(channels, channels // 8, kernel_size=1, bias=False),
            nn.GELU(),
            nn.Conv2d(channels // 8, 2, kernel_size=1, bias=False),
        )
        self.channel_cross_l = CrossChannelAttention(channels, num_heads, bias)
        self.channel_cross_h = CrossChannelAttention(channels, num_heads, bias)
        self.channel_cross_agg = CrossChannelAttention(channels, num_heads, bias)
        self.frequency_refine = FrequencyRefine(channels)
        self.para1 = nn.Parameter(torch.zeros(channels, 1, 1))
        self.para2 = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, image: Tensor, features: Tensor) -> Tensor:
        image = F.interpolate(image, size=features.shape[-2:], mode="bilinear", align_corners=False)
        embedded = self.conv1(image)
        rates = torch.sigmoid(self.rate_conv(F.adaptive_avg_pool2d(embedded, 1))).flatten(1)
        high, low = frequency_split(embedded, rates)
        high = self.channel_cross_l(high, features)
        low = self.channel_cross_h(low, features)
        attended = self.channel_cross_agg(features, self.frequency_refine(low, high))
        return attended * self.para1 + features * self.para2
