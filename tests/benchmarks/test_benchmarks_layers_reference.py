"""The optimised layers compute what the straightforward float32 layers compute.

``benchmarks/reference_layers.py`` keeps the plain forwards (F.normalize attention, chunked
GDFN, out-of-place residuals); the optimised ones must agree to float32 rounding, forward and
backward, on the full ``baryir`` preset and on a small one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from baryir.models import create_model
from baryir.models.layers import TransformerBlock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from reference_layers import reference_layers  # noqa: E402

from tolerance import float32_deep_bound, rounded_operations  # noqa: E402


@torch.no_grad()
def test_full_baryir_matches_reference_layers() -> None:
    torch.manual_seed(0)
    model = create_model("baryir").eval()
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(1))
    ours = model(x)
    with reference_layers():
        ref = model(x)
    assert ref.restored.abs().max() > 0.1
    # the optimised layers sum in other orders than the plain ones: a deep-chain bound
    n = rounded_operations(model, 24, 40)
    for a, b in zip(ours, ref, strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max() < float32_deep_bound(n, b.abs().max())


@torch.no_grad()
def test_full_baryir_in_bands_matches_reference_layers(monkeypatch) -> None:
    """The banded inference path (forced here on a small image: bands of 4 rows at level 1)."""
    torch.manual_seed(0)
    model = create_model("baryir").eval()
    monkeypatch.setattr(TransformerBlock, "band_elements", 48 * 64 * 4)
    x = torch.rand(1, 3, 40, 64, generator=torch.Generator().manual_seed(3))
    ours = model(x)
    with reference_layers():
        ref = model(x)
    n = rounded_operations(model, 40, 64)  # bands sum the same terms in another order
    for a, b in zip(ours, ref, strict=True):
        assert (a - b).abs().max() < float32_deep_bound(n, b.abs().max())


def test_gradients_match_reference_layers() -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny", dim=8)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))

    def grads() -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad()
        out = model(x)
        (out.restored.square().mean() + out.barycenter.mean()).backward()
        return out.restored.detach(), [p.grad.clone() for p in model.parameters()]

    ours, ours_grads = grads()
    with reference_layers():
        ref, ref_grads = grads()
    # forward, then backward through the same chain (twice the operations); a parameter's
    # gradient also sums over the batch's pixels: deep-chain bounds at the output's scale and
    # at the whole gradient's (backpropagation's rounding is bounded normwise, not entrywise)
    n = 2 * rounded_operations(model, 32, 32, batch=2)
    torch.testing.assert_close(ours, ref, atol=float32_deep_bound(n, ref.abs().max()), rtol=0)
    atol = float32_deep_bound(n + 2 * 32 * 32, max(float(g.abs().max()) for g in ref_grads))
    for a, b in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, atol=atol, rtol=0)


@torch.no_grad()
def test_block_is_layout_agnostic_with_heads() -> None:
    torch.manual_seed(0)
    block = TransformerBlock(24, 4, 2.66).eval()
    x = torch.randn(3, 24, 9, 11)
    out = block(x)
    cl = block(x.contiguous(memory_format=torch.channels_last))
    with reference_layers():
        ref = block(x)
    # one block, other summation orders (fused layers, channels-last kernels)
    atol = float32_deep_bound(rounded_operations(block, 9, 11, batch=3), ref.abs().max())
    torch.testing.assert_close(out, ref, atol=atol, rtol=0)
    torch.testing.assert_close(cl, ref, atol=atol, rtol=0)
