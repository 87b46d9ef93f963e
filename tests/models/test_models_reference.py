"""Our networks against a functional re-implementation of the released forward.

The reference below is written from the design notes (sections 1 and 1b) directly on the
released parameter names, independent of our module tree and of the name mapping: equal
outputs from the same released-named weights check the layers, the decoder wiring and the
mapping together. The residual branches' output projections are scaled down so that the
random network stays well conditioned (float32 rounding ~1e-6, far below any wiring error).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from baryir.models import convert_official_state_dict, create_model
from tolerance import float32_deep_bound, rounded_operations


def shared_dir() -> Path:
    return Path(
        os.environ.get("BARYIR_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
    )


def released_shapes(file: str, key: str) -> dict[str, list[int]]:
    path = shared_dir() / "reference" / file
    if not path.is_file():
        pytest.skip(f"released parameter list not found at {path} (set BARYIR_SHARED)")
    return json.loads(path.read_text())[key]


def random_released(shapes: dict[str, list[int]], seed: int = 0) -> dict[str, Tensor]:
    """Released-named tensors with a sane scale (fan-in init, norms near 1)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in shapes.items():
        if name.endswith("prompt_param"):
            t = torch.rand(shape, generator=g)
        elif "norm" in name or name.startswith("LN.") or name.endswith("temperature"):
            base = 0.0 if name.endswith("bias") else 1.0
            t = base + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith("bias"):
            t = 0.1 * torch.randn(shape, generator=g)
        else:
            fan_in = max(1, int(torch.tensor(shape[1:]).prod()))
            t = torch.randn(shape, generator=g) / fan_in**0.5
            if name.endswith("project_out.weight"):
                t = 0.2 * t
        out[name] = t
    return out


def ln(x: Tensor, sd: dict, p: str) -> Tensor:
    mu = x.mean(1, keepdim=True)
    var = ((x - mu) ** 2).mean(1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5) * sd[p + "weight"][:, None, None] + sd[p + "bias"][
        :, None, None
    ]


def conv(x: Tensor, sd: dict, p: str, padding: int = 0, groups: int = 1) -> Tensor:
    return F.conv2d(x, sd[p + "weight"], padding=padding, groups=groups)


def block(x: Tensor, sd: dict, p: str) -> Tensor:
    heads = sd[p + "attn.temperature"].shape[0]
    b, c, h, w = x.shape
    y = ln(x, sd, p + "norm1.body.")
    qkv = conv(conv(y, sd, p + "attn.qkv."), sd, p + "attn.qkv_dwconv.", 1, 3 * c)
    q, k, v = (t.reshape(b, heads, c // heads, h * w) for t in qkv.chunk(3, 1))
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    attn = (q @ k.transpose(-2, -1) * sd[p + "attn.temperature"]).softmax(-1)
    x = x + conv((attn @ v).reshape(b, c, h, w), sd, p + "attn.project_out.")
    y = conv(ln(x, sd, p + "norm2.body."), sd, p + "ffn.project_in.")
    y1, y2 = conv(y, sd, p + "ffn.dwconv.", 1, y.shape[1]).chunk(2, 1)
    return x + conv(F.gelu(y1) * y2, sd, p + "ffn.project_out.")


def blocks(x: Tensor, sd: dict, p: str) -> Tensor:
    i = 0
    while f"{p}.{i}.norm1.body.weight" in sd:
        x = block(x, sd, f"{p}.{i}.")
        i += 1
    return x


def down(x: Tensor, sd: dict, p: str) -> Tensor:
    return F.pixel_unshuffle(conv(x, sd, p + ".body.0.", 1), 2)


def up(x: Tensor, sd: dict, p: str) -> Tensor:
    return F.pixel_shuffle(conv(x, sd, p + ".body.0.", 1), 2)


def prompt(x: Tensor, sd: dict, p: str) -> Tensor:
    w = F.softmax(
        F.linear(x.mean((-2, -1)), sd[p + "linear_layer.weight"], sd[p + "linear_layer.bias"]), 1
    )
    mix = (w[:, :, None, None, None] * sd[p + "prompt_param"]).sum(1)
    mix = F.interpolate(mix, x.shape[-2:], mode="bilinear", align_corners=False)
    return conv(mix, sd, p + "conv3x3.", 1)


def encode(x: Tensor, sd: dict) -> tuple[Tensor, ...]:
    e1 = blocks(conv(x, sd, "patch_embed.proj.", 1), sd, "encoder_level1")
    e2 = blocks(down(e1, sd, "down1_2"), sd, "encoder_level2")
    e3 = blocks(down(e2, sd, "down2_3"), sd, "encoder_level3")
    return e1, e2, e3, down(e3, sd, "down3_4")


def reference_barynet(x: Tensor, sd: dict) -> tuple[Tensor, ...]:
    e1, e2, e3, x4 = encode(x, sd)
    z = ln(blocks(x4, sd, "latent"), sd, "LN.body.")
    b = ln(blocks(z, sd, "barylatent"), sd, "LN.body.")
    r = z - b
    s3 = up(conv(r, sd, "resreduce_noise_level3."), sd, "resup4_3")
    t = blocks(conv(s3, sd, "resreduce_chan_level3."), sd, "resdecoder_level3")
    s2 = up(conv(t, sd, "resreduce_noise_level2."), sd, "resup3_2")
    t = blocks(conv(s2, sd, "resreduce_chan_level2."), sd, "resdecoder_level2")
    s1 = up(conv(t, sd, "resreduce_noise_level1."), sd, "resup2_1")
    y = conv(block(torch.cat([b, r], 1), sd, "noise_level3."), sd, "reduce_noise_level3.")
    y = torch.cat([up(y, sd, "up4_3"), e3 + 0.8 * s3], 1)
    y = blocks(conv(y, sd, "reduce_chan_level3."), sd, "decoder_level3")
    y = conv(block(y, sd, "noise_level2."), sd, "reduce_noise_level2.")
    y = torch.cat([up(y, sd, "up3_2"), e2 + 0.8 * s2], 1)
    y = blocks(conv(y, sd, "reduce_chan_level2."), sd, "decoder_level2")
    y = conv(block(y, sd, "noise_level1."), sd, "reduce_noise_level1.")
    y = torch.cat([up(y, sd, "up2_1"), e1 + 0.8 * s1], 1)
    y = blocks(blocks(y, sd, "decoder_level1"), sd, "refinement")
    return conv(y, sd, "output.", 1) + x, z, b, r


def reference_promptir(x: Tensor, sd: dict) -> tuple[Tensor, ...]:
    e1, e2, e3, x4 = encode(x, sd)
    z = blocks(x4, sd, "latent")
    y = torch.cat([z, prompt(z, sd, "prompt3.")], 1)
    y = conv(block(y, sd, "noise_level3."), sd, "reduce_noise_level3.")
    y = torch.cat([up(y, sd, "up4_3"), e3], 1)
    d3 = blocks(conv(y, sd, "reduce_chan_level3."), sd, "decoder_level3")
    y = torch.cat([d3, prompt(d3, sd, "prompt2.")], 1)
    y = conv(block(y, sd, "noise_level2."), sd, "reduce_noise_level2.")
    y = torch.cat([up(y, sd, "up3_2"), e2], 1)
    d2 = blocks(conv(y, sd, "reduce_chan_level2."), sd, "decoder_level2")
    y = torch.cat([d2, prompt(d2, sd, "prompt1.")], 1)
    y = conv(block(y, sd, "noise_level1."), sd, "reduce_noise_level1.")
    y = torch.cat([up(y, sd, "up2_1"), e1], 1)
    y = blocks(blocks(y, sd, "decoder_level1"), sd, "refinement")
    return (conv(y, sd, "output.", 1) + x, z)


@torch.no_grad()
def test_barynet_matches_released_forward() -> None:
    sd = random_released(
        released_shapes("official_barynet_state_dict.json", "BaryNet(decoder=True)")
    )
    model = create_model("baryir").eval()
    model.load_state_dict(convert_official_state_dict(sd), strict=True)
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(1))
    ours = model(x)
    ref = reference_barynet(x, sd)
    assert ref[0].abs().max() > 0.1
    n = rounded_operations(model, 24, 40)  # the reference sums in its own orders
    for a, b in zip(ours, ref, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max() < float32_deep_bound(n, b.abs().max())


@torch.no_grad()
def test_promptir_matches_released_forward() -> None:
    sd = random_released(released_shapes("promptir_state_dict.json", "PromptIR(decoder=True)"))
    model = create_model("promptir").eval()
    model.load_state_dict(convert_official_state_dict(sd), strict=True)
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(2))
    ours = model(x)
    ref = reference_promptir(x, sd)
    assert ours.barycenter is None and ours.residual is None
    n = rounded_operations(model, 24, 40)  # the reference sums in its own orders
    for a, b in zip(ours[:2], ref, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max() < float32_deep_bound(n, b.abs().max())
