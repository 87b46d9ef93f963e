"""Patch embedding and 2x resampling of Restormer."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["Downsample", "PatchEmbed", "Upsample"]


class PatchEmbed(nn.Module):
    """3x3 conv (padding 1, no bias) from image to features: ``(B, Cin, H, W) -> (B, C, H, W)``."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)


class Downsample(nn.Module):
    """3x3 conv ``C -> C/2`` then ``PixelUnshuffle(2)``: ``(B, C, H, W) -> (B, 2C, H/2, W/2)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels // 2, kernel_size=3, padding=1, bias=False)
        self.shuffle = nn.PixelUnshuffle(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.conv(x))


class Upsample(nn.Module):
    """3x3 conv ``C -> 4C'`` then ``PixelShuffle(2)``: ``(B, C, H, W) -> (B, C', 2H, 2W)``.

    ``C' = out_channels``, by default ``C/2`` (Restormer's, a ``C -> 2C`` conv).
    """

    def __init__(self, channels: int, out_channels: int | None = None) -> None:
        super().__init__()
        out = channels // 2 if out_channels is None else out_channels
        self.conv = nn.Conv2d(channels, out * 4, kernel_size=3, padding=1, bias=False)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.conv(x))
