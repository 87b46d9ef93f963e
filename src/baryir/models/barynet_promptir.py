"""BaryNetP: BaryNet with PromptIR's prompt blocks (this project's design)."""

from __future__ import annotations

from collections.abc import Sequence

from baryir.models.barynet import BaryNet

__all__ = ["BaryNetP"]


class BaryNetP(BaryNet):
    """BaryIR on a PromptIR backbone: BaryNet with the prompts put back.

    The authors did not release this variant; our design:

    - levels 2 and 1 exactly as PromptIR: ``cat[d3, prompt2(d3)]`` (320 wide) and
      ``cat[d2, prompt1(d2)]`` (160 wide) feed the extra decoder blocks;
    - level 3: a prompt generated from the source latent ``z`` joins the barycenter and the
      residual, ``cat[b, r, prompt3(z)]`` (768 + 320 = 1088 wide), then block, 1x1 to 192.

    Everything else (encoder, latent, barycenter map, shared norm, residual decoder, skip
    corrections, refinement, global residual) is BaryNet's. Defaults: 65,265,683 parameters.

    Args:
        in_channels: image channels.
        dim: channels at level 1.
        num_blocks: blocks at encoder levels 1-3 and in the latent.
        num_barycenter_blocks: blocks of the barycenter map.
        num_refinement_blocks: refinement blocks.
        heads: attention heads at levels 1-4.
        ffn_expansion_factor: GDFN hidden width factor.
        transition_heads: heads of the extra decoder blocks.
        residual_skip_scale: weight of the residual corrections added to the skips.
        prompt_dims: prompt channels at levels 1, 2, 3.
        prompt_sizes: prompt sides at levels 1, 2, 3.
        num_prompts: prompts per prompt block.
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
        prompt_dims: Sequence[int] = (64, 128, 320),
        prompt_sizes: Sequence[int] = (64, 32, 16),
        num_prompts: int = 5,
    ) -> None:
        super().__init__(
            in_channels=in_channels,
            dim=dim,
            num_blocks=num_blocks,
            num_barycenter_blocks=num_barycenter_blocks,
            num_refinement_blocks=num_refinement_blocks,
            heads=heads,
            ffn_expansion_factor=ffn_expansion_factor,
            transition_heads=transition_heads,
            residual_skip_scale=residual_skip_scale,
            prompt_dims=prompt_dims,
            prompt_sizes=prompt_sizes,
            num_prompts=num_prompts,
        )
