"""The Restormer-family backbone (encoder, latent, decoder), shared by Restormer, PromptIR and
BaryNet."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from baryir.models.base import EncoderDecoder
from baryir.models.layers import Downsample, PatchEmbed, PromptGenBlock, Upsample, make_blocks

__all__ = [
    "Decoder",
    "DecoderLevel",
    "Encoder",
    "LevelTransition",
    "RestormerBackbone",
    "build_transitions",
    "check_lengths",
]


def check_lengths(name: str, **sequences: tuple[Sequence[int], int]) -> None:
    """Raise a ``ValueError`` when a sequence argument does not have its expected length."""
    for arg, (value, length) in sequences.items():
        if len(value) != length:
            raise ValueError(f"{name}: {arg} needs {length} values, got {list(value)}")


class Encoder(nn.Module):
    """Patch embedding and three levels of blocks, each followed by a 2x downsampling.

    Args:
        in_channels: image channels.
        dim: channels at level 1 (doubled at each level).
        num_blocks: blocks at levels 1, 2, 3.
        heads: attention heads at levels 1, 2, 3.
        ffn_expansion_factor: GDFN hidden width factor.

    Shape:
        ``(B, Cin, H, W) -> (e1, e2, e3, x4)`` with ``e1 (B, dim, H, W)``,
        ``e2 (B, 2dim, H/2, W/2)``, ``e3 (B, 4dim, H/4, W/4)``, ``x4 (B, 8dim, H/8, W/8)``.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        num_blocks: Sequence[int],
        heads: Sequence[int],
        ffn_expansion_factor: float,
    ) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(in_channels, dim)
        self.level1 = make_blocks(num_blocks[0], dim, heads[0], ffn_expansion_factor)
        self.down1 = Downsample(dim)
        self.level2 = make_blocks(num_blocks[1], dim * 2, heads[1], ffn_expansion_factor)
        self.down2 = Downsample(dim * 2)
        self.level3 = make_blocks(num_blocks[2], dim * 4, heads[2], ffn_expansion_factor)
        self.down3 = Downsample(dim * 4)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        e1 = self.level1(self.patch_embed(x))
        e2 = self.level2(self.down1(e1))
        e3 = self.level3(self.down2(e2))
        return e1, e2, e3, self.down3(e3)


class LevelTransition(nn.Module):
    """Extra decoder stage before an upsampling: ``[prompt] -> block -> 1x1 reduce``.

    ``x -> cat[x, prompt(x)]`` (when a prompt block is given) ``-> block -> conv1x1``.
    Released names: ``prompt{k}``, ``noise_level{k}``, ``reduce_noise_level{k}``.

    Args:
        in_channels: channels of ``x``.
        out_channels: channels after the 1x1 reduction.
        num_heads: heads of the block.
        ffn_expansion_factor: GDFN hidden width factor.
        prompt: optional prompt generation block conditioned on ``x``.

    Shape:
        ``(B, in_channels, H, W) -> (B, out_channels, H, W)``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_heads: int,
        ffn_expansion_factor: float,
        prompt: PromptGenBlock | None = None,
    ) -> None:
        super().__init__()
        width = in_channels + (prompt.prompt_dim if prompt is not None else 0)
        self.out_channels = out_channels
        self.prompt = prompt
        self.block = make_blocks(1, width, num_heads, ffn_expansion_factor)[0]
        self.reduce = nn.Conv2d(width, out_channels, kernel_size=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.prompt is not None:
            x = torch.cat([x, self.prompt(x)], dim=1)
        return self.reduce(self.block(x))


class DecoderLevel(nn.Module):
    """One decoder level: ``[transition] -> up -> cat[., skip] -> [1x1 fuse] -> blocks``.

    The 1x1 fuse exists only when the concatenation is wider than ``out_channels``.

    Args:
        up_channels: channels entering the upsampling (after the transition).
        skip_channels: channels of the encoder skip.
        out_channels: channels of the blocks.
        num_blocks: number of blocks.
        num_heads: heads of the blocks.
        ffn_expansion_factor: GDFN hidden width factor.
        transition: optional :class:`LevelTransition` applied first.

    Shape:
        ``x (B, C, h, w), skip (B, skip_channels, 2h, 2w) -> (B, out_channels, 2h, 2w)``
    """

    def __init__(
        self,
        up_channels: int,
        skip_channels: int,
        out_channels: int,
        num_blocks: int,
        num_heads: int,
        ffn_expansion_factor: float,
        transition: LevelTransition | None = None,
    ) -> None:
        super().__init__()
        cat_channels = up_channels // 2 + skip_channels
        self.transition = transition
        self.up = Upsample(up_channels)
        self.fuse = (
            nn.Conv2d(cat_channels, out_channels, kernel_size=1, bias=False)
            if cat_channels != out_channels
            else None
        )
        self.blocks = make_blocks(num_blocks, out_channels, num_heads, ffn_expansion_factor)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        if self.transition is not None:
            x = self.transition(x)
        x = torch.cat([self.up(x), skip], dim=1)
        if self.fuse is not None:
            x = self.fuse(x)
        return self.blocks(x)


class Decoder(nn.Module):
    """Three decoder levels, refinement blocks and the 3x3 output conv.

    Channels follow Restormer: level 3 at ``4dim``, level 2 at ``2dim``, level 1 and refinement
    at ``2dim``. Without transitions (Restormer) level 3 upsamples its ``in_channels`` input;
    with transitions (PromptIR, BaryNet) each level starts with its :class:`LevelTransition`.

    Args:
        dim: encoder level-1 channels.
        out_channels: image channels.
        num_blocks: blocks at levels 1, 2, 3.
        num_refinement_blocks: refinement blocks.
        heads: heads at levels 1, 2, 3.
        ffn_expansion_factor: GDFN hidden width factor.
        transitions: ``None`` or the transitions of levels 1, 2, 3.
        in_channels: channels of ``x`` without transitions (default ``8dim``, the latent's).

    Shape:
        ``x (B, C, H/8, W/8)``, skips ``(e3, e2, e1)`` -> ``(B, out_channels, H, W)`` (before
        the global residual).
    """

    def __init__(
        self,
        dim: int,
        out_channels: int,
        num_blocks: Sequence[int],
        num_refinement_blocks: int,
        heads: Sequence[int],
        ffn_expansion_factor: float,
        transitions: Sequence[LevelTransition] | None = None,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        t1, t2, t3 = transitions if transitions is not None else (None, None, None)
        ffn = ffn_expansion_factor
        up3 = t3.out_channels if t3 is not None else in_channels or dim * 8
        self.level3 = DecoderLevel(up3, dim * 4, dim * 4, num_blocks[2], heads[2], ffn, t3)
        up2 = t2.out_channels if t2 is not None else dim * 4
        self.level2 = DecoderLevel(up2, dim * 2, dim * 2, num_blocks[1], heads[1], ffn, t2)
        up1 = t1.out_channels if t1 is not None else dim * 2
        self.level1 = DecoderLevel(up1, dim, dim * 2, num_blocks[0], heads[0], ffn, t1)
        self.refinement = make_blocks(num_refinement_blocks, dim * 2, heads[0], ffn)
        self.output = nn.Conv2d(dim * 2, out_channels, kernel_size=3, padding=1, bias=False)

    def forward(self, x: Tensor, skips: Sequence[Tensor]) -> Tensor:
        e3, e2, e1 = skips
        x = self.level1(self.level2(self.level3(x, e3), e2), e1)
        return self.output(self.refinement(x))


def build_transitions(
    dim: int,
    in_channels: Sequence[int],
    num_heads: int,
    ffn_expansion_factor: float,
    prompts: Sequence[PromptGenBlock | None] = (None, None, None),
) -> list[LevelTransition]:
    """Transitions of levels 1, 2, 3 reducing to ``2dim``, ``4dim``, ``4dim`` channels.

    Args:
        dim: encoder level-1 channels.
        in_channels: channels entering each transition (before its prompt), levels 1, 2, 3.
        num_heads: heads of the transition blocks.
        ffn_expansion_factor: GDFN hidden width factor.
        prompts: optional prompt block of each level.
    """
    out_channels = (dim * 2, dim * 4, dim * 4)
    return [
        LevelTransition(c_in, c_out, num_heads, ffn_expansion_factor, prompt)
        for c_in, c_out, prompt in zip(in_channels, out_channels, prompts, strict=True)
    ]


class RestormerBackbone(EncoderDecoder):
    """Restormer's encoder, latent blocks and decoder as an :class:`EncoderDecoder`.

    The base of :class:`~baryir.models.Restormer`, :class:`~baryir.models.PromptIR` and
    :class:`~baryir.models.BaryNet`: each constructor calls :meth:`build_encoder` and
    :meth:`build_decoder` (in the order that keeps the released initialisation) with its own
    sizes, with or without level transitions and prompts. The latent is the output of the
    latent blocks at ``H/8`` (``8dim``); the skips are ``(e3, e2, e1)`` (``4dim, 2dim, dim``).
    """

    stride = 8

    def build_encoder(
        self,
        in_channels: int,
        dim: int,
        num_blocks: Sequence[int],
        heads: Sequence[int],
        ffn_expansion_factor: float,
    ) -> None:
        """Patch embedding, three encoder levels and the latent blocks (``num_blocks[3]``)."""
        check_lengths(type(self).__name__, num_blocks=(num_blocks, 4), heads=(heads, 4))
        self.in_channels = in_channels
        self.latent_channels = dim * 8
        self.skip_channels = (dim * 4, dim * 2, dim)
        self.encoder = Encoder(in_channels, dim, num_blocks[:3], heads[:3], ffn_expansion_factor)
        self.latent = make_blocks(num_blocks[3], dim * 8, heads[3], ffn_expansion_factor)

    def build_decoder(
        self,
        dim: int,
        num_blocks: Sequence[int],
        num_refinement_blocks: int,
        heads: Sequence[int],
        ffn_expansion_factor: float,
        decoder_in_channels: int | None,
        transition_heads: int | None = None,
        prompts: Sequence[PromptGenBlock | None] = (None, None, None),
    ) -> None:
        """The decoder taking ``decoder_in_channels`` (default ``8dim``) at the bottleneck;
        with ``transition_heads``, each level starts with a :class:`LevelTransition` (and the
        prompt block of that level, levels 1, 2, 3)."""
        width = self.latent_channels if decoder_in_channels is None else decoder_in_channels
        self.decoder_in_channels = width
        ffn = ffn_expansion_factor
        transitions = (
            None
            if transition_heads is None
            else build_transitions(dim, (dim * 2, dim * 4, width), transition_heads, ffn, prompts)
        )
        self.decoder = Decoder(
            dim,
            self.in_channels,
            num_blocks[:3],
            num_refinement_blocks,
            heads[:3],
            ffn,
            transitions,
            width,
        )

    @property
    def output_projection(self) -> nn.Conv2d:  # type: ignore[override]
        """The decoder's last 3x3 conv."""
        return self.decoder.output

    def encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        e1, e2, e3, x4 = self.encoder(x)
        return self.latent(x4), (e3, e2, e1)

    def decode(self, features: Tensor, skips: tuple[Tensor, ...]) -> Tensor:
        return self.decoder(features, skips)
