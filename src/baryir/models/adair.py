"""AdaIR (Cui et al., "AdaIR: Adaptive All-in-One Image Restoration via Frequency Mining and
Modulation", ICLR 2025): Restormer with three frequency modules in its decoder."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from baryir.models.backbone import DecoderLevel, Encoder
from baryir.models.barynet import check_lengths
from baryir.models.base import EncoderDecoder
from baryir.models.layers import make_blocks
from baryir.models.layers.frequency import FrequencyModule
from baryir.models.registry import TINY, register_model

__all__ = ["AdaIR", "AdaIRDecoder"]


class AdaIRDecoder(nn.Module):
    """Restormer's decoder with a frequency module before each upsampling.

    ``x = fre1(image, x)``, level 3; ``fre2``, level 2; ``fre3``, level 1; refinement; output
    conv. Level names as :class:`baryir.models.backbone.Decoder`'s.

    Args:
        dim: encoder level-1 channels.
        in_channels: image channels (the frequency modules read the image; also the output's).
        latent_channels: channels of the features at the bottleneck.
        num_blocks: blocks at levels 1, 2, 3.
        num_refinement_blocks: refinement blocks.
        heads: heads at levels 1, 2, 3 (the frequency modules use level 3's).
        ffn_expansion_factor: GDFN hidden width factor.

    Shape:
        ``image (B, Cin, H, W), x (B, latent_channels, H/8, W/8)``, skips ``(e3, e2, e1)`` ->
        ``(B, Cin, H, W)`` (before the global residual).
    """

    def __init__(
        self,
        dim: int,
        in_channels: int,
        latent_channels: int,
        num_blocks: Sequence[int],
        num_refinement_blocks: int,
        heads: Sequence[int],
        ffn_expansion_factor: float,
    ) -> None:
        super().__init__()
        ffn, h3 = ffn_expansion_factor, heads[2]
        self.fre1 = FrequencyModule(latent_channels, h3, bias=False, in_channels=in_channels)
        self.level3 = DecoderLevel(latent_channels, dim * 4, dim * 4, num_blocks[2], h3, ffn)
        self.fre2 = FrequencyModule(dim * 4, h3, bias=False, in_channels=in_channels)
        self.level2 = DecoderLevel(dim * 4, dim * 2, dim * 2, num_blocks[1], heads[1], ffn)
        self.fre3 = FrequencyModule(dim * 2, h3, bias=False, in_channels=in_channels)
        self.level1 = DecoderLevel(dim * 2, dim, dim * 2, num_blocks[0], heads[0], ffn)
        self.refinement = make_blocks(num_refinement_blocks, dim * 2, heads[0], ffn)
        self.output = nn.Conv2d(dim * 2, in_channels, kernel_size=3, padding=1, bias=False)

    def forward(self, image: Tensor, x: Tensor, skips: Sequence[Tensor]) -> Tensor:
        e3, e2, e1 = skips
        x = self.level3(self.fre1(image, x), e3)
        x = self.level2(self.fre2(image, x), e2)
        x = self.level1(self.fre3(image, x), e1)
        return self.output(self.refinement(x))


@register_model("adair")
@register_model("adair-tiny", **TINY)
class AdaIR(EncoderDecoder):
    """AdaIR, the released 3D/5D network (``decoder=True``, ``bias=False``, "WithBias" norms).

    Restormer's encoder and latent blocks; the decoder (:class:`AdaIRDecoder`) modulates the
    latent and the level-3 and level-2 outputs by the input image's frequency bands. Defaults
    give the released network: 28,784,824 parameters in the authors' file, of which two unused
    convs per frequency module (``conv``, ``score_gen``) are not created here (28,766,086).

    ``encode`` returns the skips ``(e3, e2, e1, image)``: the three encoder levels (widths
    :attr:`skip_channels`) and then the input, which the frequency modules read in ``decode``
    (a barycenter head corrects the three and passes the image through).

    Args:
        in_channels: image channels.
        dim: channels at level 1.
        num_blocks: blocks at levels 1-3 and in the latent.
        num_refinement_blocks: refinement blocks.
        heads: attention heads at levels 1-4.
        ffn_expansion_factor: GDFN hidden width factor.
        decoder_in_channels: width handed to :meth:`decode` at the bottleneck (``None``: the
            latent's ``8dim``; a head hands ``cat[b, r]``, twice as wide).

    Shape:
        ``(B, C, H, W) -> RestorationOutput`` with ``source_latent`` the latent
        ``(B, 8dim, H'/8, W'/8)`` (before ``fre1``).
    """

    stride = 8

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
        check_lengths(type(self).__name__, num_blocks=(num_blocks, 4), heads=(heads, 4))
        self.in_channels = in_channels
        self.latent_channels = dim * 8
        self.skip_channels = (dim * 4, dim * 2, dim)
        self.decoder_in_channels = decoder_in_channels or self.latent_channels
        ffn = ffn_expansion_factor
        self.encoder = Encoder(in_channels, dim, num_blocks[:3], heads[:3], ffn)
        self.latent = make_blocks(num_blocks[3], dim * 8, heads[3], ffn)
        self.decoder = AdaIRDecoder(
            dim,
            in_channels,
            self.decoder_in_channels,
            num_blocks[:3],
            num_refinement_blocks,
            heads[:3],
            ffn,
        )

    @property
    def output_projection(self) -> nn.Conv2d:  # type: ignore[override]
        """The decoder's last 3x3 conv, before the global residual."""
        return self.decoder.output

    def encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """``x (B, C, H, W)`` -> the latent ``(B, 8dim, H/8, W/8)`` and ``(e3, e2, e1, x)``."""
        e1, e2, e3, x4 = self.encoder(x)
        return self.latent(x4), (e3, e2, e1, x)

    def decode(self, features: Tensor, skips: Sequence[Tensor]) -> Tensor:
        """Bottleneck features ``(B, decoder_in_channels, H/8, W/8)`` and ``(e3, e2, e1, image)``
        -> the image ``(B, C, H, W)`` before the global residual."""
        *levels, image = skips
        return self.decoder(image, features, levels)
