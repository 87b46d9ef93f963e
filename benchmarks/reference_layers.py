"""The straightforward float32 layer forwards (before the speed work), for comparisons only.

:func:`reference_layers` swaps them in for the optimised ones of :mod:`baryir.models.layers`
(same parameters, same state dicts), so a benchmark or a test can run both in one process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch.nn.functional as F
from torch import Tensor

from baryir.models.layers import (
    ChannelLayerNorm,
    GatedFeedForward,
    TransformerBlock,
    TransposedAttention,
)

__all__ = ["REFERENCE", "reference_layers"]


def layer_norm(self: ChannelLayerNorm, x: Tensor) -> Tensor:
    y = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, self.eps)
    return y.permute(0, 3, 1, 2)


def attention(self: TransposedAttention, x: Tensor) -> Tensor:
    b, c, h, w = x.shape
    q, k, v = self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)
    q = F.normalize(q.reshape(b, self.num_heads, c // self.num_heads, h * w), dim=-1)
    k = F.normalize(k.reshape(b, self.num_heads, c // self.num_heads, h * w), dim=-1)
    v = v.reshape(b, self.num_heads, c // self.num_heads, h * w)
    attn = (q @ k.transpose(-2, -1)) * self.temperature
    out = attn.softmax(dim=-1) @ v
    return self.project_out(out.reshape(b, c, h, w))


def feedforward(self: GatedFeedForward, x: Tensor) -> Tensor:
    x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
    return self.project_out(F.gelu(x1) * x2)


def block(self: TransformerBlock, x: Tensor) -> Tensor:
    x = x + self.attn(self.norm1(x))
    return x + self.ffn(self.norm2(x))


REFERENCE = {
    ChannelLayerNorm: layer_norm,
    TransposedAttention: attention,
    GatedFeedForward: feedforward,
    TransformerBlock: block,
}


@contextlib.contextmanager
def reference_layers(classes: Iterable[type] | None = None) -> Iterator[None]:
    """Run the layers with their reference forwards inside the ``with`` block (process-wide).

    Args:
        classes: which layer classes to swap (default: all of ``REFERENCE``).
    """
    chosen = list(REFERENCE if classes is None else classes)
    saved = {cls: cls.forward for cls in chosen}
    try:
        for cls in chosen:
            cls.forward = REFERENCE[cls]  # type: ignore[method-assign]
        yield
    finally:
        for cls, forward in saved.items():
            cls.forward = forward  # type: ignore[method-assign]
