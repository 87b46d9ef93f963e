"""NAFNet (Chen et al., "Simple Baselines for Image Restoration", ECCV 2022).

Parameter names are the authors' (``intro``, ``encoders``, ``downs``, ``middle_blks``, ``ups``,
``decoders``, ``ending``), so their BasicSR ``.pth`` files load without renaming.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from baryir.models.base import EncoderDecoder
from baryir.models.layers import ChannelLayerNorm
from baryir.models.registry import register_model

__all__ = ["NAFBlock", "NAFNet", "SimpleGate"]

NAFNET_TINY = {
    "width": 12,
    "middle_blk_num": 1,
    "enc_blk_nums": (1, 1, 1, 1),
    "dec_blk_nums": (1, 1, 1, 1),
}
"""``nafnet-tiny``: about 0.5 M parameters (``restormer-tiny``'s size), trainable on a CPU."""


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them: ``(B, 2C, H, W) -> (B, C, H, W)``."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """NAFNet's block (DW_Expand 2, FFN_Expand 2, no dropout).

    ``y = x + conv3(sca-gate(sg(conv2(conv1(norm1(x)))))) * beta``;
    ``out = y + conv5(sg(conv4(norm2(y)))) * gamma``, the gate being ``u * sca(u)`` with
    ``sca`` a global average and a 1x1 conv. ``beta``, ``gamma`` start at 0: a fresh block is
    the identity. LayerNorm over the channels of each pixel, eps 1e-6.

    Args:
        channels: channels ``C``.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        c = channels
        self.conv1 = nn.Conv2d(c, 2 * c, kernel_size=1)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, kernel_size=3, padding=1, groups=2 * c)
        self.conv3 = nn.Conv2d(c, c, kernel_size=1)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, kernel_size=1))
        self.sg = SimpleGate()
        self.conv4 = nn.Conv2d(c, 2 * c, kernel_size=1)
        self.conv5 = nn.Conv2d(c, c, kernel_size=1)
        self.norm1 = ChannelLayerNorm(c, eps=1e-6)
        self.norm2 = ChannelLayerNorm(c, eps=1e-6)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        u = self.sg(self.conv2(self.conv1(self.norm1(x))))
        y = x + self.conv3(u * self.sca(u)) * self.beta
        return y + self.conv5(self.sg(self.conv4(self.norm2(y)))) * self.gamma


def _blocks(count: int, channels: int) -> nn.Sequential:
    return nn.Sequential(*(NAFBlock(channels) for _ in range(count)))


@register_model("nafnet")
@register_model("nafnet-sidd-32", width=32)
@register_model("nafnet-sidd-64", width=64)
@register_model(
    "nafnet-gopro-64",
    width=64,
    middle_blk_num=1,
    enc_blk_nums=(1, 1, 1, 28),
    dec_blk_nums=(1, 1, 1, 1),
)
@register_model("nafnet-tiny", **NAFNET_TINY)
class NAFNet(EncoderDecoder):
    """NAFNet: a U-Net of NAFBlocks, skips added (not concatenated), plus the input.

    Encoder stage ``i``: blocks, skip kept, 2x2 stride-2 conv ``c -> 2c``; ``middle_blks`` at
    ``width * 2^len(enc_blk_nums)`` channels (the bottleneck); decoder stage ``i``: 1x1 conv
    ``c -> 2c`` and PixelShuffle(2) to ``c/2``, the skip added, blocks; ``ending`` 3x3 conv.
    Defaults give the released SIDD width-32 network (presets ``nafnet-sidd-32``,
    ``nafnet-sidd-64``, ``nafnet-gopro-64`` for the three releases, ``nafnet-tiny``, and
    ``nafnet``: the class, the name of a file of any other size).

    Args:
        in_channels: image channels (the authors' ``img_channel``).
        width: channels at the first level.
        middle_blk_num: blocks at the bottleneck.
        enc_blk_nums: blocks of each encoder stage (its length sets the depth).
        dec_blk_nums: blocks of each decoder stage, deepest first (same length).
        decoder_in_channels: width handed to :meth:`decode` at the bottleneck (``None``: the
            bottleneck's own; a head hands ``cat[b, r]``, twice as wide).

    Shape:
        ``(B, C, H, W) -> RestorationOutput`` with ``source_latent`` the output of
        ``middle_blks``, ``(B, width * 2^depth, H'/2^depth, W'/2^depth)``.
    """

    stride = 16
    """``2^len(enc_blk_nums)``: 16 for the released networks (set per instance)."""

    def __init__(
        self,
        in_channels: int = 3,
        width: int = 32,
        middle_blk_num: int = 12,
        enc_blk_nums: Sequence[int] = (2, 2, 4, 8),
        dec_blk_nums: Sequence[int] = (2, 2, 2, 2),
        decoder_in_channels: int | None = None,
    ) -> None:
        super().__init__()
        if len(enc_blk_nums) != len(dec_blk_nums) or not enc_blk_nums:
            raise ValueError(
                f"NAFNet: enc_blk_nums {list(enc_blk_nums)} and dec_blk_nums "
                f"{list(dec_blk_nums)} need the same non-zero length"
            )
        depth = len(enc_blk_nums)
        self.in_channels = in_channels
        self.stride = 2**depth
        self.latent_channels = width * 2**depth
        self.skip_channels = tuple(width * 2**i for i in reversed(range(depth)))
        self.decoder_in_channels = decoder_in_channels or self.latent_channels
        self.intro = nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        self.encoders = nn.ModuleList(_blocks(n, width * 2**i) for i, n in enumerate(enc_blk_nums))
        self.downs = nn.ModuleList(
            nn.Conv2d(width * 2**i, width * 2 ** (i + 1), kernel_size=2, stride=2)
            for i in range(depth)
        )
        self.middle_blks = _blocks(middle_blk_num, self.latent_channels)
        ups_in = [self.decoder_in_channels, *self.skip_channels[:-1]]
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c_in, 4 * c, kernel_size=1, bias=False), nn.PixelShuffle(2))
            for c_in, c in zip(ups_in, self.skip_channels, strict=True)
        )
        self.decoders = nn.ModuleList(
            _blocks(n, c) for n, c in zip(dec_blk_nums, self.skip_channels, strict=True)
        )
        self.ending = nn.Conv2d(width, in_channels, kernel_size=3, padding=1)

    @property
    def output_projection(self) -> nn.Conv2d:
        """The last conv (``ending``), before the global residual."""
        return self.ending

    def encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """``x (B, C, H, W)`` -> the bottleneck ``(B, latent_channels, H/stride, W/stride)`` and
        the encoder skips, deepest first (widths :attr:`skip_channels`)."""
        x = self.intro(x)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        return self.middle_blks(x), tuple(skips[::-1])

    def decode(self, features: Tensor, skips: Sequence[Tensor]) -> Tensor:
        """Bottleneck features ``(B, decoder_in_channels, h, w)`` and skips (deepest first) ->
        the image ``(B, C, H, W)`` before the global residual."""
        x = features
        for up, decoder, skip in zip(self.ups, self.decoders, skips, strict=True):
            x = decoder(up(x) + skip)
        return self.ending(x)
