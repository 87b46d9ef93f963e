"""PromptIR (Potlapalli et al., NeurIPS 2023), section 1b of the design notes."""

from __future__ import annotations

from collections.abc import Sequence

from baryir.models.backbone import RestormerBackbone, check_lengths
from baryir.models.layers import PromptGenBlock
from baryir.models.registry import TINY, TINY_PROMPTS, register_model

__all__ = ["PromptIR"]


@register_model("promptir")
@register_model("promptir-tiny", **TINY, **TINY_PROMPTS)
class PromptIR(RestormerBackbone):
    """PromptIR: Restormer with a prompt block before each decoder level.

    Level ``k`` of the decoder starts with ``cat[x, prompt_k(x)] -> block -> 1x1``, then
    upsamples, concatenates the encoder skip, (1x1 at levels 3 and 2) and runs its blocks.
    Defaults give the published model: 35,376,967 parameters (the released state dict's
    35,592,263 less six unused 1x1 convs, which are not created here).

    Args:
        in_channels: image channels.
        dim: channels at level 1.
        num_blocks: blocks at levels 1-3 and in the latent.
        num_refinement_blocks: refinement blocks.
        heads: attention heads at levels 1-4.
        ffn_expansion_factor: GDFN hidden width factor.
        transition_heads: heads of the prompt-fusion blocks (released ``noise_level1-3``).
        prompt_dims: prompt channels at levels 1, 2, 3.
        prompt_sizes: prompt sides at levels 1, 2, 3.
        num_prompts: prompts per prompt block.
        decoder_in_channels: channels the decoder takes at the bottleneck (default ``8dim``,
            the latent's; level 3's prompt is generated from them).

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
        transition_heads: int = 4,
        prompt_dims: Sequence[int] = (64, 128, 320),
        prompt_sizes: Sequence[int] = (64, 32, 16),
        num_prompts: int = 5,
        decoder_in_channels: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_lengths(name, prompt_dims=(prompt_dims, 3), prompt_sizes=(prompt_sizes, 3))
        ffn = ffn_expansion_factor
        widths = (dim * 2, dim * 4, decoder_in_channels or dim * 8)
        prompts = [
            PromptGenBlock(d, s, c, num_prompts)
            for d, s, c in zip(prompt_dims, prompt_sizes, widths, strict=True)
        ]
        self.build_encoder(in_channels, dim, num_blocks, heads, ffn)
        self.build_decoder(
            dim,
            num_blocks,
            num_refinement_blocks,
            heads,
            ffn,
            decoder_in_channels,
            transition_heads,
            prompts,
        )
