"""A small user encoder-decoder (stride 4, two levels) and the same network with the head.

``ToyNet`` implements the :class:`baryir.models.EncoderDecoder` protocol; ``BaryToyNet`` is
the whole of what it takes to carry the barycenter head: one short class, built from
primitive arguments, registered from user code.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from baryir.models import BarycenterHead, EncoderDecoder, register_model


def up(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv then 2x pixel shuffle: ``(B, in, h, w) -> (B, out, 2h, 2w)``."""
    return nn.Sequential(nn.Conv2d(in_channels, 4 * out_channels, 3, padding=1), nn.PixelShuffle(2))


class ToyNet(EncoderDecoder):
    """Conv encoder ``width -> 2 width -> 4 width`` (latent at H/4), additive skips.

    Shape:
        ``(B, C, H, W) -> RestorationOutput``, latent ``(B, 4 width, H'/4, W'/4)``.
    """

    stride = 4

    def __init__(
        self, in_channels: int = 3, width: int = 8, decoder_in_channels: int | None = None
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.latent_channels = 4 * width
        self.skip_channels = (2 * width, width)
        self.decoder_in_channels = decoder_in_channels or self.latent_channels
        self.embed = nn.Conv2d(in_channels, width, 3, padding=1)
        self.down1 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1)
        self.up2 = up(self.decoder_in_channels, 2 * width)
        self.up1 = up(2 * width, width)
        self.output_projection = nn.Conv2d(width, in_channels, 3, padding=1)

    def encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        e1 = F.gelu(self.embed(x))
        e2 = F.gelu(self.down1(e1))
        return self.down2(e2), (e2, e1)

    def decode(self, features: Tensor, skips: tuple[Tensor, ...]) -> Tensor:
        e2, e1 = skips
        x = F.gelu(self.up2(features) + e2)
        return self.output_projection(F.gelu(self.up1(x) + e1))


@register_model("my-bary-net")
class BaryToyNet(ToyNet):
    """:class:`ToyNet` carrying the barycenter head (one block in each learned part)."""

    def __init__(
        self, in_channels: int = 3, width: int = 8, residual_skip_scale: float = 0.8
    ) -> None:
        super().__init__(in_channels, width, BarycenterHead.feature_channels(4 * width))
        self.attach_head(
            BarycenterHead(
                self.latent_channels,
                self.skip_channels,
                num_barycenter_blocks=1,
                barycenter_heads=1,
                residual_blocks=(0, 1),
                residual_heads=(1, 1),
                ffn_expansion_factor=2.0,
                residual_skip_scale=residual_skip_scale,
            )
        )
