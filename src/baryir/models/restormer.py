"""Restormer (Zamir et al., CVPR 2022), the published configuration."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from baryir.models.backbone import Decoder, Encoder
from baryir.models.barynet import check_lengths
from baryir.models.base import RestorationModel
from baryir.models.layers import make_blocks
from baryir.models.output import RestorationOutput
from baryir.models.registry import TINY, register_model

__all__ = ["Restormer"]


@register_model("restormer")
@register_model("restormer-tiny", **TINY)
class Restormer(RestorationModel):
    """Restormer: encoder, latent blocks, standard decoder (up, concat skip, 1x1 at levels 3
    and 2, blocks), refinement, output conv plus the input. Defaults give the published model
    (26,126,644 parameters).

    Args:
        in_channels: image channels.
        dim: channels at level 1.
        num_blocks: blocks at levels 1-3 and in the latent.
        num_refinement_blocks: refinement blocks.
        heads: attention heads at levels 1-4.
        ffn_expansion_factor: GDFN hidden width factor.

    Shape:
        ``(B, C, H, W) -> RestorationOutput`` with ``source_latent`` the latent
        ``(B, 8dim, H'/8, W'/8)``; ``barycenter`` and ``residual`` are ``None``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        dim: int = 48,
        num_blocks: Sequence[int] = (4, 6, 6, 8),
        num_refinement_blocks: int = 4,
        heads: Sequence[int] = (1, 2, 4, 8),
        ffn_expansion_factor: float = 2.66,
    ) -> None:
        super().__init__()
        check_lengths(type(self).__name__, num_blocks=(num_blocks, 4), heads=(heads, 4))
        self.in_channels = in_channels
        self.latent_channels = dim * 8
        ffn = ffn_expansion_factor
        self.encoder = Encoder(in_channels, dim, num_blocks[:3], heads[:3], ffn)
        self.latent = make_blocks(num_blocks[3], dim * 8, heads[3], ffn)
        self.decoder = Decoder(
            dim, in_channels, num_blocks[:3], num_refinement_blocks, heads[:3], ffn
        )

    def forward_padded(self, x: Tensor) -> RestorationOutput:
        e1, e2, e3, x4 = self.encoder(x)
        z = self.latent(x4)
        return RestorationOutput(self.decoder(z, (e3, e2, e1)) + x, z)
