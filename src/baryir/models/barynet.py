"""BaryNet: the BaryIR network, the Restormer backbone carrying the barycenter head (section 1
of the design notes)."""

from __future__ import annotations

from collections.abc import Sequence

from baryir.models.backbone import RestormerBackbone, check_lengths
from baryir.models.head import BarycenterHead
from baryir.models.layers import PromptGenBlock
from baryir.models.registry import TINY, TINY_PROMPTS, register_model

__all__ = ["PROMPT_DIMS", "BaryNet"]

PROMPT_DIMS = (64, 128, 320)
"""PromptIR's prompt channels at levels 1, 2, 3: BaryIR on a PromptIR backbone
(the ``baryir-promptir`` preset)."""


@register_model("baryir")
@register_model("baryir-tiny", **TINY, num_barycenter_blocks=2)
@register_model("baryir-promptir", prompt_dims=PROMPT_DIMS)
@register_model("baryir-promptir-tiny", **TINY, **TINY_PROMPTS, num_barycenter_blocks=2)
class BaryNet(RestormerBackbone):
    """BaryIR's network (released "BaryNet"): the Restormer backbone, with the release's level
    transitions (PromptIR's decoder without prompts), carrying the :class:`BarycenterHead`.

    ``z = norm(latent(x4))``, ``b = norm(barycenter_map(z))`` (the same norm), ``r = z - b``;
    the head's residual decoder turns ``r`` into ``s3, s2, s1``; the decoder starts from
    ``cat[b, r]`` and its encoder skips are ``e_k + residual_skip_scale * s_k``; the output is
    added to the input. Defaults give the released architecture: 53,549,774 parameters (the
    released state dict's 53,765,070 less six unused 1x1 convs, which are not created here).

    With ``prompt_dims`` set (preset ``baryir-promptir``: :data:`PROMPT_DIMS`), PromptIR's
    prompt blocks are put back: BaryIR on a PromptIR backbone. The authors did not release this
    variant; our design:

    - levels 2 and 1 exactly as PromptIR: ``cat[d3, prompt2(d3)]`` (320 wide) and
      ``cat[d2, prompt1(d2)]`` (160 wide) feed the extra decoder blocks;
    - level 3: a prompt generated from the source latent ``z`` (by the head) joins the
      barycenter and the residual, ``cat[b, r, prompt3(z)]`` (768 + 320 = 1088 wide), then
      block, 1x1 to 192.

    Everything else is as without prompts. Defaults with :data:`PROMPT_DIMS`: 65,265,683
    parameters.

    Args:
        in_channels: image channels.
        dim: channels at level 1.
        num_blocks: blocks at encoder levels 1-3 and in the latent (also the decoder levels 1-3
            and the residual decoder's levels 2-3).
        num_barycenter_blocks: blocks of the barycenter map.
        num_refinement_blocks: refinement blocks.
        heads: attention heads at levels 1-4.
        ffn_expansion_factor: GDFN hidden width factor.
        transition_heads: heads of the extra decoder blocks (released ``noise_level1-3``).
        residual_skip_scale: weight of the residual corrections added to the skips.
        prompt_dims: ``None`` (released) or prompt channels at levels 1, 2, 3.
        prompt_sizes: prompt sides at levels 1, 2, 3.
        num_prompts: prompts per prompt block.

    Shape:
        ``(B, C, H, W) -> RestorationOutput`` with ``z, b, r`` of shape ``(B, 8dim, H'/8, W'/8)``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        dim: int = 48,
        num_blocks: Sequence[int] = (4, 6, 6, 8),
        num_barycenter_blocks: int = 8,
        num_refinement_blocks: int = 4,
        heads: Sequence[int] = (1, 2, 4, 8),
        ffn_expansion_factor: float = 2.66,
        transition_heads: int = 4,
        residual_skip_scale: float = 0.8,
        prompt_dims: Sequence[int] | None = None,
        prompt_sizes: Sequence[int] = (64, 32, 16),
        num_prompts: int = 5,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_lengths(name, prompt_sizes=(prompt_sizes, 3))
        if prompt_dims is not None:
            check_lengths(name, prompt_dims=(prompt_dims, 3))
        ffn = ffn_expansion_factor
        self.build_encoder(in_channels, dim, num_blocks, heads, ffn)
        head = BarycenterHead(
            self.latent_channels,
            self.skip_channels,
            num_barycenter_blocks=num_barycenter_blocks,
            barycenter_heads=heads[3],
            residual_blocks=(0, num_blocks[2], num_blocks[1]),
            residual_heads=(heads[2], heads[2], heads[1]),
            ffn_expansion_factor=ffn,
            residual_skip_scale=residual_skip_scale,
            prompt_dim=None if prompt_dims is None else prompt_dims[2],
            prompt_size=prompt_sizes[2],
            num_prompts=num_prompts,
        )
        self.attach_head(head)
        prompts = (
            (None, None, None)
            if prompt_dims is None
            else (
                PromptGenBlock(prompt_dims[0], prompt_sizes[0], dim * 2, num_prompts),
                PromptGenBlock(prompt_dims[1], prompt_sizes[1], dim * 4, num_prompts),
                None,
            )
        )
        self.build_decoder(
            dim,
            num_blocks,
            num_refinement_blocks,
            heads,
            ffn,
            head.out_channels,
            transition_heads,
            prompts,
        )
