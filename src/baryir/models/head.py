"""The barycenter head: BaryIR's bottleneck module, carried by any encoder-decoder.

From the backbone's bottleneck latent it computes ``z = norm(latent)``, the barycenter
``b = norm(T(z))`` (the same norm), the residual ``r = z - b``, and turns ``r`` into one skip
correction per decoder level (design notes, section 1). The backbone's decoder then starts
from ``cat[b, r]`` (plus optional extra features) and its skips are
``e_k + residual_skip_scale * s_k``. See :class:`baryir.models.EncoderDecoder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from baryir.models.layers import ChannelLayerNorm, PromptGenBlock, Upsample, make_blocks

__all__ = ["BarycenterHead", "HeadOutput", "ResidualStage"]


class HeadOutput(NamedTuple):
    """What the head hands the main decoder, and the representations the objective uses.

    Attributes:
        features: the decoder's bottleneck input ``cat[b, r(, prompt(z))]``
            ``(B, out_channels, h, w)``.
        skips: the corrected skips ``e_k + residual_skip_scale * s_k``, deepest first, then
            the backbone's extra skips unchanged (AdaIR's input image).
        source_latent: ``z`` ``(B, latent_channels, h, w)``.
        barycenter: ``b``, same shape.
        residual: ``r = z - b``, same shape.
    """

    features: Tensor
    skips: tuple[Tensor, ...]
    source_latent: Tensor
    barycenter: Tensor
    residual: Tensor


class ResidualStage(nn.Module):
    """``[1x1 -> blocks] -> 1x1 -> up``: one step of the residual decoder.

    Args:
        in_channels: input channels ``C``.
        out_channels: output channels (the skip's, released: ``C/2``).
        num_blocks: blocks (0: no ``1x1 -> blocks`` part, as at the deepest stage).
        num_heads: heads of the blocks.
        ffn_expansion_factor: GDFN hidden width factor.

    Shape:
        ``(B, C, h, w) -> (B, out_channels, 2h, 2w)``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_blocks: int,
        num_heads: int,
        ffn_expansion_factor: float,
    ) -> None:
        super().__init__()
        self.proj_in = (
            nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
            if num_blocks > 0
            else None
        )
        self.blocks = (
            make_blocks(num_blocks, in_channels, num_heads, ffn_expansion_factor)
            if num_blocks > 0
            else None
        )
        self.reduce = nn.Conv2d(in_channels, in_channels, kernel_size=1, bias=False)
        self.up = Upsample(in_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        if self.proj_in is not None and self.blocks is not None:
            x = self.blocks(self.proj_in(x))
        return self.up(self.reduce(x))


class BarycenterHead(nn.Module):
    """Barycenter map, shared norm, residual decoder and skip injection at a bottleneck.

    The residual decoder has one :class:`ResidualStage` per skip, deepest first: stage ``k``
    takes the previous stage's output (``r`` for the first), upsamples it 2x to the channels of
    skip ``k`` and that is ``s_k``, the tensor right after the upsampling. Each skip must
    therefore be at twice the resolution of the one before (the latent before the first).
    Defaults are the paper's (released BaryNet: skips ``(192, 96, 48)`` under a 384-wide latent).

    Args:
        latent_channels: channels of the backbone's latent (and of ``z``, ``b``, ``r``).
        skip_channels: channels of the backbone's skips, deepest first.
        num_barycenter_blocks: Restormer blocks of the barycenter map ``T``.
        barycenter_heads: attention heads of those blocks.
        residual_blocks: blocks of each residual stage, deepest first.
        residual_heads: attention heads of each residual stage, deepest first (unused by a
            stage of 0 blocks).
        ffn_expansion_factor: GDFN hidden width factor.
        residual_skip_scale: weight of the corrections added to the skips.
        prompt_dim: ``None``, or the channels of a prompt generated from ``z`` and appended to
            the features (BaryNet-PromptIR's level-3 prompt).
        prompt_size: that prompt's side.
        num_prompts: prompts of that prompt block.

    Shape:
        ``latent (B, latent_channels, h, w)``, skips deepest first (``skip_channels``, then any
        extra ones the decoder reads, passed through unchanged) -> :class:`HeadOutput`.
    """

    def __init__(
        self,
        latent_channels: int,
        skip_channels: Sequence[int],
        num_barycenter_blocks: int = 8,
        barycenter_heads: int = 8,
        residual_blocks: Sequence[int] = (0, 6, 6),
        residual_heads: Sequence[int] = (4, 4, 2),
        ffn_expansion_factor: float = 2.66,
        residual_skip_scale: float = 0.8,
        prompt_dim: int | None = None,
        prompt_size: int = 16,
        num_prompts: int = 5,
    ) -> None:
        super().__init__()
        levels = len(skip_channels)
        for arg, value in (
            ("residual_blocks", residual_blocks),
            ("residual_heads", residual_heads),
        ):
            if len(value) != levels:
                raise ValueError(
                    f"BarycenterHead: {arg} needs one value per skip ({levels}), got {list(value)}"
                )
        self.latent_channels = latent_channels
        self.skip_channels = tuple(skip_channels)
        self.out_channels = self.feature_channels(latent_channels, prompt_dim)
        self.residual_skip_scale = residual_skip_scale
        ffn = ffn_expansion_factor
        self.barycenter_map = make_blocks(
            num_barycenter_blocks, latent_channels, barycenter_heads, ffn
        )
        self.latent_norm = ChannelLayerNorm(latent_channels)
        inputs = (latent_channels, *self.skip_channels[:-1])
        self.residual_decoder = nn.ModuleList(
            ResidualStage(c_in, c_out, n, h, ffn)
            for c_in, c_out, n, h in zip(
                inputs, self.skip_channels, residual_blocks, residual_heads, strict=True
            )
        )
        self.latent_prompt = (
            None
            if prompt_dim is None
            else PromptGenBlock(prompt_dim, prompt_size, latent_channels, num_prompts)
        )

    @staticmethod
    def feature_channels(latent_channels: int, prompt_dim: int | None = None) -> int:
        """Channels of the features the head hands the decoder: the backbone's
        ``decoder_in_channels`` (``2 * latent_channels``, plus ``prompt_dim``)."""
        return 2 * latent_channels + (prompt_dim or 0)

    def corrections(self, residual: Tensor) -> tuple[Tensor, ...]:
        """The skip corrections ``s_k`` of ``r`` ``(B, latent_channels, h, w)``, deepest first."""
        out = []
        x = residual
        for stage in self.residual_decoder:
            x = stage(x)
            out.append(x)
        return tuple(out)

    def forward(self, latent: Tensor, skips: Sequence[Tensor]) -> HeadOutput:
        z = self.latent_norm(latent)
        b = self.latent_norm(self.barycenter_map(z))
        r = z - b
        corrections = self.corrections(r)
        features = [b, r] if self.latent_prompt is None else [b, r, self.latent_prompt(z)]
        k = self.residual_skip_scale
        n = len(corrections)
        injected = (*(e + k * s for e, s in zip(skips[:n], corrections, strict=True)), *skips[n:])
        return HeadOutput(torch.cat(features, dim=1), injected, z, b, r)
