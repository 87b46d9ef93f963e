"""Restormer (Zamir et al., CVPR 2022), the published configuration."""

from __future__ import annotations

from collections.abc import Sequence

from baryir.models.backbone import RestormerBackbone
from baryir.models.registry import TINY, register_model

__all__ = ["Restormer"]


@register_model("restormer")
@register_model("restormer-tiny", **TINY)
class Restormer(RestormerBackbone):
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
        decoder_in_channels: channels the decoder takes at the bottleneck (default ``8dim``,
            the latent's; ``16dim`` under a :class:`~baryir.models.head.BarycenterHead`).

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
        decoder_in_channels: int | None = None,
    ) -> None:
        super().__init__()
        ffn = ffn_expansion_factor
        self.build_encoder(in_channels, dim, num_blocks, heads, ffn)
        self.build_decoder(dim, num_blocks, num_refinement_blocks, heads, ffn, decoder_in_channels)
