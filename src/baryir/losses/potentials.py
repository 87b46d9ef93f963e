r"""Pieces of the paper's semi-dual Wasserstein-barycenter solver.

The paper solves

.. math::

    \max_{f} \min_{T} \sum_k \lambda_k\, \mathbb{E}_{z \sim P_k}
    \big[ c(z, T(z)) - f_k(T(z)) \big]
    \quad \text{s.t.} \quad \sum_k \lambda_k f_k = 0

with one potential :math:`f_k` per degradation source. Signs, per step, on a batch
:math:`(b_i, k(i))_{i \le B}` with :math:`b_i = T(z_i)`:

* network step (minimise over :math:`T`): add
  :func:`potential_network_term` :math:`= -\frac1B \sum_i \lambda_{k(i)} f_{k(i)}(b_i)` to the
  cost, so the network moves ``b`` where the potentials are high.
* potentials step (maximise the objective over :math:`f` with :math:`T` fixed): the cost does
  not depend on :math:`f`, so maximising :math:`-\sum \lambda f` is minimising
  :func:`potentials_step_loss` :math:`= \frac1B \sum_i \lambda_{k(i)} f_{k(i)}(b_i)` with ``b``
  detached, together with the soft constraint :func:`congruence_penalty`.

The potentials object is any module with ``forward(b, source) -> (B,)`` (each sample's own
potential) and ``all_potentials(b) -> (B, K)`` (every potential on every sample), such as
``baryir.models.dual_potentials.DualPotentials``.

Note the batch form :math:`\frac1B\sum_i \lambda_{k(i)}` (the paper's): it weights source ``k``
by :math:`\lambda_k n_k / B`, which equals the constraint's :math:`\lambda_k` only up to a
constant when every source has the same count :math:`n_k` in the batch.
"""

from __future__ import annotations

from typing import Protocol

from torch import Tensor

__all__ = [
    "Potentials",
    "congruence_penalty",
    "potential_network_term",
    "potentials_step_loss",
]


class Potentials(Protocol):
    """What the solver needs from a potentials module."""

    def __call__(self, barycenter: Tensor, source: Tensor) -> Tensor: ...

    def all_potentials(self, barycenter: Tensor) -> Tensor: ...


def _sample_weights(source: Tensor, source_weights: Tensor, where: str) -> Tensor:
    if source.dim() != 1 or source_weights.dim() != 1:
        raise ValueError(
            f"{where}: source must be (B,) and source_weights (K,), got "
            f"{tuple(source.shape)} and {tuple(source_weights.shape)}"
        )
    return source_weights.to(source.device)[source]


def _own_potentials(
    potentials: Potentials, barycenter: Tensor, source: Tensor, where: str
) -> Tensor:
    values = potentials(barycenter, source)
    if values.shape != source.shape:
        raise ValueError(
            f"{where}: potentials(b, source) must return ({source.shape[0]},), "
            f"got {tuple(values.shape)}"
        )
    return values


def potential_network_term(
    potentials: Potentials, barycenter: Tensor, source: Tensor, source_weights: Tensor
) -> Tensor:
    r"""Network-step contribution :math:`-\frac1B \sum_i \lambda_{k(i)} f_{k(i)}(b_i)`.

    Gradients flow into ``barycenter`` (and into the potentials' parameters: step only the
    network's optimiser with this loss, or freeze the potentials).

    Args:
        potentials: module with ``forward(b, source) -> (B,)``.
        barycenter: ``b`` of shape :math:`(B, C, h, w)`.
        source: :math:`(B,)` long source index.
        source_weights: :math:`(K,)` the :math:`\lambda_k`.

    Returns:
        Scalar tensor.

    Example:
        >>> # loss = cost.mean() + potential_network_term(potentials, b, source, lambdas)
    """
    weights = _sample_weights(source, source_weights, "potential_network_term")
    values = _own_potentials(potentials, barycenter, source, "potential_network_term")
    return -(weights.to(values.dtype) * values).mean()


def potentials_step_loss(
    potentials: Potentials, barycenter: Tensor, source: Tensor, source_weights: Tensor
) -> Tensor:
    r"""Potentials-step loss :math:`\frac1B \sum_i \lambda_{k(i)} f_{k(i)}(b_i)` (minimised).

    ``barycenter`` is detached here, so only the potentials receive gradients.

    Args:
        potentials: module with ``forward(b, source) -> (B,)``.
        barycenter: ``b`` of shape :math:`(B, C, h, w)` (detached inside).
        source: :math:`(B,)` long source index.
        source_weights: :math:`(K,)` the :math:`\lambda_k`.

    Returns:
        Scalar tensor.

    Example:
        >>> # loss = potentials_step_loss(potentials, b, source, lambdas)
        >>> # loss = loss + congruence_penalty(potentials, b, lambdas)
    """
    weights = _sample_weights(source, source_weights, "potentials_step_loss")
    values = _own_potentials(potentials, barycenter.detach(), source, "potentials_step_loss")
    return (weights.to(values.dtype) * values).mean()


def congruence_penalty(
    potentials: Potentials, barycenter: Tensor, source_weights: Tensor, weight: float = 10.0
) -> Tensor:
    r"""Soft congruence constraint, a batch mean.

    .. math::

        w \cdot \frac1B \sum_i \Big(\sum_k \lambda_k f_k(b_i)\Big)^2

    The batch mean is the sound form of the release's last-sample penalty. ``barycenter`` is
    detached here.

    Args:
        potentials: module with ``all_potentials(b) -> (B, K)``.
        barycenter: ``b`` of shape :math:`(B, C, h, w)` (detached inside).
        source_weights: :math:`(K,)` the :math:`\lambda_k`.
        weight: penalty weight (paper: 10).

    Returns:
        Scalar tensor.

    Example:
        >>> # loss = congruence_penalty(potentials, b, lambdas, weight=10.0)
    """
    values = potentials.all_potentials(barycenter.detach())
    if values.dim() != 2 or values.shape[1] != source_weights.shape[0]:
        raise ValueError(
            f"congruence_penalty: all_potentials(b) must return (B, {source_weights.shape[0]}), "
            f"got {tuple(values.shape)}"
        )
    combined = values @ source_weights.to(device=values.device, dtype=values.dtype)
    return weight * combined.pow(2).mean()
