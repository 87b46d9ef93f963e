"""BaryIR on AdaIR: the AdaIR backbone carrying the barycenter head (baryir's design, no
released weights)."""

from __future__ import annotations

from collections.abc import Sequence

from baryir.models.adair import AdaIR
from baryir.models.head import BarycenterHead
from baryir.models.registry import TINY, register_model

__all__ = ["BaryAdaIR"]


@register_model("baryir-adair")
@register_model("baryir-adair-tiny", **TINY, num_barycenter_blocks=2, residual_blocks=(0, 2, 2))
class BaryAdaIR(AdaIR):
    """AdaIR (defaults: the released 3D/5D network) with the :class:`BarycenterHead` on its
    latent, before ``fre1``.

    ``z = norm(latent(x4))`` (``8dim`` at 1/8), ``b = norm(T(z))``, ``r = z - b``; the decoder
    starts from ``cat[b, r]`` (``fre1`` then works at ``16dim``), its three feature skips get
    ``e_k + residual_skip_scale * s_k`` and the frequency modules still read the input image.
    The head's defaults are the paper's (BaryNet's head on the same Restormer levels).

    Args:
        in_channels: image channels.
        dim: channels at level 1.
        num_blocks: blocks at levels 1-3 and in the latent.
        num_refinement_blocks: refinement blocks.
        heads: attention heads at levels 1-4.
        ffn_expansion_factor: GDFN hidden width factor (backbone and head).
        num_barycenter_blocks: blocks of the barycenter map ``T``.
        barycenter_heads: attention heads of those blocks.
        residual_blocks: blocks of each residual stage, deepest first.
        residual_heads: heads of each residual stage, deepest first.
        residual_skip_scale: weight of the corrections added to the skips.

    Shape:
        ``(B, C, H, W) -> RestorationOutput`` with ``z, b, r`` of shape ``(B, 8dim, H'/8, W'/8)``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        dim: int = 48,
        num_blocks: Sequence[int] = (4, 6, 6, 8),
        num_refinement_blocks: int = 4,
        heads: Sequence[int] = (1, 2, 4, 8),
        ffn_expansion_factor: float = 2.66,
        num_barycenter_blocks: int = 8,
        barycenter_heads: int = 8,
        residual_blocks: Sequence[int] = (0, 6, 6),
        residual_heads: Sequence[int] = (4, 4, 2),
        residual_skip_scale: float = 0.8,
    ) -> None:
        super().__init__(
            in_channels,
            dim,
            num_blocks,
            num_refinement_blocks,
            heads,
            ffn_expansion_factor,
            BarycenterHead.feature_channels(dim * 8),
        )
        self.attach_head(
            BarycenterHead(
                self.latent_channels,
                self.skip_channels,
                num_barycenter_blocks=num_barycenter_blocks,
                barycenter_heads=barycenter_heads,
                residual_blocks=residual_blocks,
                residual_heads=residual_heads,
                ffn_expansion_factor=ffn_expansion_factor,
                residual_skip_scale=residual_skip_scale,
            )
        )
