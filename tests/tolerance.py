"""Tolerances of float32 equality tests, from the size of the computation.

Two float32 evaluations of one quantity in different orders (another CPU's vector width or
thread count, a fused kernel against a loop, bands against the whole image, another library)
each round a sum of ``n`` terms within ``gamma_n * sum|term|``, ``gamma_n ~= n u`` (Higham,
Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5), ``u = 2^-24`` float32's unit
round-off; their difference is at most twice that. The bound is the worst case over orders,
so it holds on any CPU; the error of one machine is usually ``sqrt(n)`` times smaller.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from baryir.models.layers import TransformerBlock

U32 = 2.0**-24  # float32's unit round-off


def float32_sum_bound(n_terms: int, magnitude: float) -> float:
    """Largest difference of two float32 sums of ``n_terms`` terms whose ``|term|`` add up to at
    most ``magnitude``, computed in any two orders (each within ``n u magnitude``)."""
    return 2 * n_terms * U32 * float(magnitude)


def conv_magnitude(weight: Tensor, inputs: Tensor) -> float:
    """Largest ``sum |w| |y|`` over a convolution's outputs: the ``magnitude`` of its sums
    (``weight`` (O, I/groups, k, k), ``inputs`` (B, I, H, W), same padding, groups from shapes)."""
    groups = inputs.shape[1] // weight.shape[1]
    padding = weight.shape[-1] // 2
    sums = F.conv2d(inputs.detach().abs(), weight.detach().abs(), padding=padding, groups=groups)
    return float(sums.max())


def float32_deep_bound(n_terms: int, magnitude: float) -> float:
    """Difference of two float32 evaluations, in any orders, of a deep chain of ``n_terms``
    rounded operations in all (a network) at the scale ``magnitude`` of its values: the
    probabilistic bound ``lambda sqrt(n) u`` (Higham and Mary, SIAM J. Sci. Comput. 41(5), 2019,
    Thm 2.4; roundings independent of mean zero), ``lambda = 6`` (fails with probability below
    ``2 n exp(-18)``), twice. The worst case ``n u`` of so long a chain would exceed any error a
    wrong wiring makes."""
    return 2 * 6 * n_terms**0.5 * U32 * float(magnitude)


def rounded_operations(model: nn.Module, height: int, width: int, batch: int = 1) -> int:
    """A count of the rounded operations along a network's path: per transformer block, the
    attention's three sums over the pixels (norms, q.k) and five channel sums at its widest."""
    blocks = [m for m in model.modules() if isinstance(m, TransformerBlock)]
    widest = max(block.norm1.weight.numel() for block in blocks)
    return len(blocks) * (3 * batch * height * width + 5 * widest)
