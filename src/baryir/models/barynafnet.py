"""BaryIR on NAFNet: the NAFNet backbone carrying the barycenter head (baryir's design, no
released weights)."""

from __future__ import annotations

from collections.abc import Sequence

from baryir.models.head import BarycenterHead
from baryir.models.nafnet import NAFNET_TINY, NAFNet
from baryir.models.registry import register_model

__all__ = ["BaryNAFNet"]


@register_model("baryir-nafnet")
@register_model(
    "baryir-nafnet-tiny",
    **NAFNET_TINY,
    num_barycenter_blocks=2,
    residual_blocks=(0, 1, 1, 1),
    ffn_expansion_factor=2.0,
)
class BaryNAFNet(NAFNet):
    """NAFNet (defaults: the SIDD width-32 network) with the :class:`BarycenterHead` on the
    output of ``middle_blks``.

    ``z = norm(middle_blks(.))`` (``16 width`` channels at 1/16), ``b = norm(T(z))``,
    ``r = z - b``; NAFNet's decoder starts from ``cat[b, r]`` and adds to each of its four
    skips ``e_k + residual_skip_scale * s_k``. The padding stride is NAFNet's (16 at depth 4).
    The head's defaults are the paper's; its residual decoder has one stage per skip (four
    here, the paper's three on Restormer): the paper's ``(0, 6, 6)`` blocks and ``(4, 4, 2)``
    heads with one stage more, of 6 blocks, its heads halving with the channels as the
    paper's do.

    Args:
        in_channels: image channels.
        width: channels at the first level.
        middle_blk_num: NAFNet blocks at the bottleneck.
        enc_blk_nums: NAFNet blocks of each encoder stage.
        dec_blk_nums: NAFNet blocks of each decoder stage, deepest first.
        num_barycenter_blocks: Restormer blocks of the barycenter map ``T``.
        barycenter_heads: attention heads of those blocks.
        residual_blocks: blocks of each residual stage, deepest first (one per skip).
        residual_heads: heads of each residual stage, deepest first.
        ffn_expansion_factor: GDFN hidden width factor of the head's blocks.
        residual_skip_scale: weight of the corrections added to the skips.

    Shape:
        ``(B, C, H, W) -> RestorationOutput`` with ``z, b, r`` of shape
        ``(B, width * 2^depth, H'/2^depth, W'/2^depth)``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        width: int = 32,
        middle_blk_num: int = 12,
        enc_blk_nums: Sequence[int] = (2, 2, 4, 8),
        dec_blk_nums: Sequence[int] = (2, 2, 2, 2),
        num_barycenter_blocks: int = 8,
        barycenter_heads: int = 8,
        residual_blocks: Sequence[int] = (0, 6, 6, 6),
        residual_heads: Sequence[int] = (4, 4, 2, 1),
        ffn_expansion_factor: float = 2.66,
        residual_skip_scale: float = 0.8,
    ) -> None:
        latent_channels = width * 2 ** len(enc_blk_nums)
        super().__init__(
            in_channels,
            width,
            middle_blk_num,
            enc_blk_nums,
            dec_blk_nums,
            BarycenterHead.feature_channels(latent_channels),
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
