"""BaryNet: the BaryIR network on a Restormer backbone (section 1 of the design notes)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from baryir.models.backbone import Decoder, Encoder, build_transitions
from baryir.models.base import RestorationModel
from baryir.models.layers import ChannelLayerNorm, PromptGenBlock, Upsample, make_blocks
from baryir.models.output import RestorationOutput
from baryir.models.registry import TINY, TINY_PROMPTS, register_model

__all__ = ["PROMPT_DIMS", "BaryNet", "ResidualDecoder", "ResidualStage", "check_lengths"]

PROMPT_DIMS = (64, 128, 320)
"""PromptIR's prompt channels at levels 1, 2, 3: BaryIR on a PromptIR backbone
(the ``baryir-promptir`` preset)."""


def check_lengths(name: str, **sequences: tuple[Sequence[int], int]) -> None:
    """Raise a ``ValueError`` when a sequence argument does not have its expected length."""
    for arg, (value, length) in sequences.items():
        if len(value) != length:
            raise ValueError(f"{name}: {arg} needs {length} values, got {list(value)}")


class ResidualStage(nn.Module):
    """``[1x1 -> blocks] -> 1x1 -> up``: one step of the residual decoder.

    Args:
        channels: input channels ``C`` (the output has ``C/2`` at twice the resolution).
        num_blocks: blocks (0: no 1x1 + blocks head, as at the first stage).
        num_heads: heads of the blocks.
        ffn_expansion_factor: GDFN hidden width factor.

    Shape:
        ``(B, C, h, w) -> (B, C/2, 2h, 2w)``
    """

    def __init__(
        self, channels: int, num_blocks: int, num_heads: int, ffn_expansion_factor: float
    ) -> None:
        super().__init__()
        self.proj_in = (
            nn.Conv2d(channels, channels, kernel_size=1, bias=False) if num_blocks > 0 else None
        )
        self.blocks = (
            make_blocks(num_blocks, channels, num_heads, ffn_expansion_factor)
            if num_blocks > 0
            else None
        )
        self.reduce = nn.Conv2d(channels, channels, kernel_size=1, bias=False)
        self.up = Upsample(channels)

    def forward(self, x: Tensor) -> Tensor:
        if self.proj_in is not None and self.blocks is not None:
            x = self.blocks(self.proj_in(x))
        return self.up(self.reduce(x))


class ResidualDecoder(nn.Module):
    """Turn the residual ``r`` into the skip corrections ``s3, s2, s1``.

    ``s3 = up(1x1(r))``, ``s2 = up(1x1(blocks(1x1(s3))))``, ``s1`` likewise from ``s2``: each
    correction is the tensor right after an upsampling.

    Args:
        dim: encoder level-1 channels (``r`` has ``8dim``).
        num_blocks: blocks at levels 2 and 3 (used by the stages making ``s1`` and ``s2``).
        heads: heads at levels 2 and 3.
        ffn_expansion_factor: GDFN hidden width factor.

    Shape:
        ``(B, 8dim, h, w) -> ((B, 4dim, 2h, 2w), (B, 2dim, 4h, 4w), (B, dim, 8h, 8w))``
    """

    def __init__(
        self, dim: int, num_blocks: Sequence[int], heads: Sequence[int], ffn_expansion_factor: float
    ) -> None:
        super().__init__()
        self.stage3 = ResidualStage(dim * 8, 0, heads[1], ffn_expansion_factor)
        self.stage2 = ResidualStage(dim * 4, num_blocks[1], heads[1], ffn_expansion_factor)
        self.stage1 = ResidualStage(dim * 2, num_blocks[0], heads[0], ffn_expansion_factor)

    def forward(self, r: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        s3 = self.stage3(r)
        s2 = self.stage2(s3)
        return s3, s2, self.stage1(s2)


@register_model("baryir")
@register_model("baryir-tiny", **TINY, num_barycenter_blocks=2)
@register_model("baryir-promptir", prompt_dims=PROMPT_DIMS)
@register_model("baryir-promptir-tiny", **TINY, **TINY_PROMPTS, num_barycenter_blocks=2)
class BaryNet(RestorationModel):
    """BaryIR's network (released "BaryNet", Restormer backbone).

    ``z = norm(latent(x4))``, ``b = norm(barycenter_map(z))`` (the same norm), ``r = z - b``;
    the residual decoder turns ``r`` into ``s3, s2, s1``; the decoder starts from ``cat[b, r]``
    and its encoder skips are ``e_k + residual_skip_scale * s_k``; the output is added to the
    input. Defaults give the released architecture: 53,549,774 parameters (the released state
    dict's 53,765,070 less six unused 1x1 convs, which are not created here).

    With ``prompt_dims`` set (preset ``baryir-promptir``: :data:`PROMPT_DIMS`), PromptIR's
    prompt blocks are put back: BaryIR on a PromptIR backbone. The authors did not release this
    variant; our design:

    - levels 2 and 1 exactly as PromptIR: ``cat[d3, prompt2(d3)]`` (320 wide) and
      ``cat[d2, prompt1(d2)]`` (160 wide) feed the extra decoder blocks;
    - level 3: a prompt generated from the source latent ``z`` joins the barycenter and the
      residual, ``cat[b, r, prompt3(z)]`` (768 + 320 = 1088 wide), then block, 1x1 to 192.

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

    has_barycenter = True

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
        check_lengths(name, num_blocks=(num_blocks, 4), heads=(heads, 4))
        check_lengths(name, prompt_sizes=(prompt_sizes, 3))
        if prompt_dims is not None:
            check_lengths(name, prompt_dims=(prompt_dims, 3))
        self.in_channels = in_channels
        self.latent_channels = dim * 8
        self.residual_skip_scale = residual_skip_scale
        ffn = ffn_expansion_factor

        self.encoder = Encoder(in_channels, dim, num_blocks[:3], heads[:3], ffn)
        self.latent = make_blocks(num_blocks[3], dim * 8, heads[3], ffn)
        self.barycenter_map = make_blocks(num_barycenter_blocks, dim * 8, heads[3], ffn)
        self.latent_norm = ChannelLayerNorm(dim * 8)
        self.residual_decoder = ResidualDecoder(dim, num_blocks[1:3], heads[1:3], ffn)

        if prompt_dims is None:
            self.latent_prompt = None
            prompts: tuple[PromptGenBlock | None, ...] = (None, None, None)
            level3_channels = dim * 16
        else:
            self.latent_prompt = PromptGenBlock(
                prompt_dims[2], prompt_sizes[2], dim * 8, num_prompts
            )
            prompts = (
                PromptGenBlock(prompt_dims[0], prompt_sizes[0], dim * 2, num_prompts),
                PromptGenBlock(prompt_dims[1], prompt_sizes[1], dim * 4, num_prompts),
                None,
            )
            level3_channels = dim * 16 + prompt_dims[2]
        transitions = build_transitions(
            dim, (dim * 2, dim * 4, level3_channels), transition_heads, ffn, prompts
        )
        self.decoder = Decoder(
            dim, in_channels, num_blocks[:3], num_refinement_blocks, heads[:3], ffn, transitions
        )

    def forward_padded(self, x: Tensor) -> RestorationOutput:
        e1, e2, e3, x4 = self.encoder(x)
        z = self.latent_norm(self.latent(x4))
        b = self.latent_norm(self.barycenter_map(z))
        r = z - b
        s3, s2, s1 = self.residual_decoder(r)
        features = [b, r] if self.latent_prompt is None else [b, r, self.latent_prompt(z)]
        k = self.residual_skip_scale
        skips = (e3 + k * s3, e2 + k * s2, e1 + k * s1)
        restored = self.decoder(torch.cat(features, dim=1), skips) + x
        return RestorationOutput(restored, z, b, r)
