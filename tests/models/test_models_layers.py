"""Known-answer tests of the Restormer building blocks and of the padding."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from baryir.models.layers import (
    ChannelLayerNorm,
    Downsample,
    GatedFeedForward,
    PromptGenBlock,
    TransformerBlock,
    TransposedAttention,
    Upsample,
)
from baryir.models.padding import crop_to, pad_to_multiple
from tolerance import conv_magnitude, float32_sum_bound


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_layernorm_equals_formula() -> None:
    norm = ChannelLayerNorm(6)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(2, 6, 5, 7) * 3 + 1
    mu = x.mean(1, keepdim=True)
    var = ((x - mu) ** 2).mean(1, keepdim=True)  # biased
    expected = (x - mu) / torch.sqrt(var + 1e-5) * norm.weight.view(1, 6, 1, 1) + norm.bias.view(
        1, 6, 1, 1
    )
    # two orders of C-term means (mean, variance, centring at the scale of |x|), then an affine
    # map: a sum bound over C + 3 terms at the scale of the normalised |x| times |weight|
    scale = (x.abs() / var.sqrt()).max() * norm.weight.abs().max() + norm.bias.abs().max()
    torch.testing.assert_close(norm(x), expected, atol=float32_sum_bound(6 + 3, scale), rtol=0)


def naive_mdta(attn: TransposedAttention, x: torch.Tensor) -> torch.Tensor:
    """Loop over samples and heads; heads are contiguous channel groups."""
    b, c, h, w = x.shape
    heads, d = attn.num_heads, c // attn.num_heads
    qkv = attn.qkv_dwconv(attn.qkv(x))
    q, k, v = qkv[:, :c], qkv[:, c : 2 * c], qkv[:, 2 * c :]
    out = torch.zeros(b, c, h * w)
    for i in range(b):
        for head in range(heads):
            sl = slice(head * d, (head + 1) * d)
            qh, kh, vh = (t[i, sl].reshape(d, h * w) for t in (q, k, v))
            qh = qh / qh.norm(dim=1, keepdim=True).clamp_min(1e-12)
            kh = kh / kh.norm(dim=1, keepdim=True).clamp_min(1e-12)
            logits = qh @ kh.T * attn.temperature[head, 0, 0]
            weights = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
            out[i, sl] = weights @ vh
    return attn.project_out(out.reshape(b, c, h, w))


def test_mdta_equals_naive_loop() -> None:
    attn = TransposedAttention(12, 3)
    with torch.no_grad():
        attn.temperature.copy_(torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1))
    x = torch.randn(2, 12, 5, 6)
    # qkv is the same call on both sides (bitwise); then in another order: two norms and q.k
    # over h w = 30 pixels (unit vectors: logits within the temperature), the softmax and
    # weights @ v over d = 4 channels, project_out over 12: a sum bound over all of them at
    # the scale of |project_out| |v| times the largest temperature
    v = attn.qkv_dwconv(attn.qkv(x))[:, 24:].detach()
    scale = conv_magnitude(attn.project_out.weight, v) * float(attn.temperature.max())
    atol = float32_sum_bound(2 * 30 + 30 + 2 * 4 + 12, scale)
    torch.testing.assert_close(attn(x), naive_mdta(attn, x), atol=atol, rtol=0)
    assert attn.temperature.shape == (3, 1, 1)
    assert all(m.bias is None for m in (attn.qkv, attn.qkv_dwconv, attn.project_out))
    assert attn.qkv_dwconv.padding == (1, 1)


def test_mdta_rejects_bad_heads() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        TransposedAttention(10, 3)


def test_gdfn_equals_formula() -> None:
    ffn = GatedFeedForward(8, 2.66)
    hidden = int(8 * 2.66)
    assert ffn.project_in.out_channels == 2 * hidden
    x = torch.randn(2, 8, 4, 5)
    y = ffn.dwconv(ffn.project_in(x))
    x1, x2 = y[:, :hidden], y[:, hidden:]
    gelu = 0.5 * x1 * (1 + torch.erf(x1 / math.sqrt(2)))  # exact GELU on the first half
    # same convolutions before (bitwise); GELU from erf differs by a few roundings of each
    # value, then project_out sums 21 channels: a sum bound over 21 + 4 terms
    atol = float32_sum_bound(hidden + 4, conv_magnitude(ffn.project_out.weight, gelu * x2))
    torch.testing.assert_close(ffn(x), ffn.project_out(gelu * x2), atol=atol, rtol=0)


def test_gdfn_pads_hidden_width_exactly() -> None:
    """Hidden 127 (C = 48) runs as 128 channels: the extra channel is exactly zero."""
    ffn = GatedFeedForward(48, 2.66)
    assert ffn.project_out.in_channels == 127
    x = torch.randn(1, 48, 6, 5)
    y = ffn.dwconv(ffn.project_in(x))
    gated = F.gelu(y[:, :127]) * y[:, 127:]
    expected = ffn.project_out(gated)
    # the padded kernel sums 128 channels (one exactly zero) in its own order against 127
    atol = float32_sum_bound(128 + 2, conv_magnitude(ffn.project_out.weight, gated))
    torch.testing.assert_close(ffn(x), expected, atol=atol, rtol=0)
    assert [tuple(p.shape) for p in ffn.parameters()] == [
        (254, 48, 1, 1),
        (254, 1, 3, 3),
        (48, 127, 1, 1),
    ]


@pytest.mark.parametrize(
    ("band", "rows"),
    [(slice(3, 10), slice(1, 6)), (slice(0, 4), slice(0, 3)), (slice(8, 12), slice(1, 4))],
)
def test_gdfn_row_window_equals_whole_image_rows(band: slice, rows: slice) -> None:
    """A band with one-row halos gives exactly the rows of the whole image's GDFN."""
    ffn = GatedFeedForward(8, 2.66)
    x = torch.randn(2, 8, 12, 7)
    kept = slice(band.start + rows.start, band.start + rows.stop)
    # same sums (8 input channels, 9 taps, 21 hidden channels) on a tensor of another shape,
    # which the kernels may block in another order: a sum bound over the chain's 8 + 9 + 21
    # terms at the scale of |project_out| |its input|
    y = ffn.dwconv(ffn.project_in(x))
    gated = (F.gelu(y[:, :21]) * y[:, 21:]).detach()
    atol = float32_sum_bound(8 + 9 + 21, conv_magnitude(ffn.project_out.weight, gated))
    torch.testing.assert_close(ffn(x[:, :, band], rows), ffn(x)[:, :, kept], atol=atol, rtol=0)


@pytest.mark.parametrize(("height", "heads"), [(37, 2), (12, 1), (7, 3)])
def test_banded_inference_equals_whole_image(height: int, heads: int) -> None:
    """Without autograd a large input runs in bands (attention sums accumulated band by band):
    same result as the autograd path, which never bands."""
    block = TransformerBlock(12, heads, 2.66)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.2)
    block.band_elements = 12 * 20 * 2  # 2-row bands of a 20-pixel-wide input
    x = torch.randn(2, 12, height, 20)
    whole = block(x).detach()
    with torch.no_grad():
        banded = block(x)
        direct = block.forward_bands(x.contiguous(memory_format=torch.channels_last), 2)
        # the bands sum the attention's h w pixels in another order (norms, q.k): a sum bound
        # over the block's chain (2 norms, 3 h w pixel sums, the convolutions' channels and
        # taps) at the scale of x plus |project_out| |its input| of the attention and the FFN
        y = x + block.attn(block.norm1(x))
        v = block.attn.qkv_dwconv(block.attn.qkv(block.norm1(x)))[:, 24:]
        h = block.ffn.dwconv(block.ffn.project_in(block.norm2(y)))
        gated = F.gelu(h[:, : h.shape[1] // 2]) * h[:, h.shape[1] // 2 :]
    temperature = max(float(block.attn.temperature.abs().max()), 1.0)
    scale = float(x.abs().max()) + conv_magnitude(block.attn.project_out.weight, v) * temperature
    scale += conv_magnitude(block.ffn.project_out.weight, gated)
    n = 2 * (12 + 3) + 12 + 9 + 3 * height * 20 + 2 * 12 // heads + 12 + 12 + 9 + gated.shape[1]
    torch.testing.assert_close(banded, whole, atol=float32_sum_bound(n, scale), rtol=0)
    assert torch.equal(banded, direct)  # the no-grad forward took the banded path
    assert banded.is_contiguous(memory_format=torch.channels_last)


def test_block_is_prenorm_residual() -> None:
    block = TransformerBlock(8, 2, 2.66)
    x = torch.randn(1, 8, 4, 4)
    y = x + block.attn(block.norm1(x))
    # the same layers in the same order on one machine: bitwise
    torch.testing.assert_close(block(x), y + block.ffn(block.norm2(y)), rtol=0, atol=0)


def test_resampling_shapes_and_pixel_order() -> None:
    x = torch.randn(1, 8, 6, 10)
    down, up = Downsample(8), Upsample(8)
    assert down(x).shape == (1, 16, 3, 5)
    assert up(x).shape == (1, 4, 12, 20)
    # the same convolution, then a permutation of its values: bitwise
    torch.testing.assert_close(down(x), F.pixel_unshuffle(down.conv(x), 2), rtol=0, atol=0)
    torch.testing.assert_close(up(x), F.pixel_shuffle(up.conv(x), 2), rtol=0, atol=0)
    assert down.conv.out_channels == 4 and up.conv.out_channels == 16


def test_prompt_block_equals_formula() -> None:
    pgb = PromptGenBlock(prompt_dim=4, prompt_size=3, in_channels=6, num_prompts=5)
    assert pgb.prompts.shape == (1, 5, 4, 3, 3)
    assert pgb.prompts.min() >= 0 and pgb.prompts.max() < 1
    x = torch.randn(2, 6, 7, 9)
    w = torch.softmax(x.mean((2, 3)) @ pgb.selector.weight.T + pgb.selector.bias, dim=1)
    mix = torch.einsum("bn,ndhw->bdhw", w, pgb.prompts[0])
    resized = F.interpolate(mix, size=(7, 9), mode="bilinear", align_corners=False)
    expected = pgb.conv(resized)
    out = pgb(x)
    assert out.shape == (2, 4, 7, 9)
    # another order of: the mean over 63 pixels, the selector's 6 channels, the softmax and the
    # mix over 5 prompts, 4 bilinear taps, the 3x3 conv over 4 channels (36 terms); softmax
    # weights sum to 1, so a sum bound over the chain at the scale of |conv| |its input|
    atol = float32_sum_bound(63 + 6 + 2 * 5 + 4 + 36, conv_magnitude(pgb.conv.weight, resized))
    torch.testing.assert_close(out, expected, atol=atol, rtol=0)


@pytest.mark.parametrize("size", [(37, 53), (8, 16), (3, 5), (1, 1), (9, 7)])
def test_padding_round_trip(size: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *size)
    padded, original = pad_to_multiple(x, 8)
    assert original == size
    assert padded.shape[-2] % 8 == 0 and padded.shape[-1] % 8 == 0
    assert padded.shape[-2] - size[0] < 8 and padded.shape[-1] - size[1] < 8
    torch.testing.assert_close(crop_to(padded, original), x)


def test_padding_reflects() -> None:
    x = torch.arange(10.0).view(1, 1, 1, 10).expand(1, 1, 9, 10)
    padded, _ = pad_to_multiple(x, 8)
    assert padded.shape == (1, 1, 16, 16)
    torch.testing.assert_close(padded[0, 0, 0, 10:], torch.tensor([8.0, 7, 6, 5, 4, 3]))


def test_padding_replicates_small_sides() -> None:
    x = torch.rand(1, 3, 3, 5)
    padded, _ = pad_to_multiple(x, 8)
    torch.testing.assert_close(padded[..., 3:, :5], x[..., 2:3, :].expand(1, 3, 5, 5))


def test_padding_is_noop_on_multiples() -> None:
    x = torch.rand(1, 3, 16, 24)
    padded, size = pad_to_multiple(x, 8)
    assert padded is x and size == (16, 24)
