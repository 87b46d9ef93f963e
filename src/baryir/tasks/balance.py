"""How much each loss term moves the network, and a dial that holds the alignment's share.

:func:`gradient_shares` measures, for one batch, the norm of each weighted term's gradient on the
network's parameters over the norm of the total's: the share of that term in the update. At the
paper's weights the pixel term ``S = 1e4`` carries nearly all of it, whatever the Wasserstein
terms' weights say.

:class:`ShareBalancer` keeps one term's share near a target by scaling that term with a
multiplier it re-solves at every measurement: with ``a`` the term's gradient and ``o`` the sum of
the others', the multiplier ``k`` with ``|k a| = s |o + k a|`` is the positive root of
``(1 - s^2) |a|^2 k^2 - 2 s^2 (a.o) k - s^2 |o|^2 = 0``, and the stored multiplier follows it as
an exponential moving average in log space (the batch-to-batch noise of one measurement is
smoothed; between measurements the multiplier is held). It is the idea of GradNorm (Chen et al.,
"GradNorm: Gradient Normalization for Adaptive Loss Balancing in Deep Multitask Networks",
ICML 2018: weight each loss so that its gradient norm on the shared weights meets a target),
with the target set on the share of the total gradient rather than learned from training rates,
and solved in closed form from the measured gradients instead of by a gradient step on the
weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["GradientShares", "ShareBalancer", "ShareConfig", "gradient_shares", "share_multiplier"]


def _flat(grads: Sequence[Tensor | None], params: Sequence[Tensor]) -> Tensor:
    return torch.cat(
        [
            (g if g is not None else torch.zeros_like(p)).reshape(-1).float()
            for g, p in zip(grads, params, strict=True)
        ]
    )


def gradient_shares(
    weighted: dict[str, Tensor], params: Sequence[nn.Parameter]
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Each term's gradient on ``params`` and its share of the total gradient.

    Args:
        weighted: term name -> weighted scalar term (with its graph); the total is their sum.
        params: the parameters (the network's); a term that does not reach one counts zero.

    Returns:
        ``(shares, grads)``: ``shares[name] = |g_name| / |sum of all g|`` (a 0-dim tensor;
        shares need not add to 1, they do only when the gradients are parallel) and
        ``grads[name]``, the flattened float32 gradient ``(P,)``. The graph is kept.
    """
    params = [p for p in params if p.requires_grad]
    grads = {
        name: _flat(torch.autograd.grad(term, params, retain_graph=True, allow_unused=True), params)
        for name, term in weighted.items()
        if term.requires_grad
    }
    total = torch.stack(list(grads.values())).sum(0).norm() if grads else torch.zeros(())
    shares = {
        name: grad.norm() / total.clamp_min(torch.finfo(total.dtype).tiny)
        for name, grad in grads.items()
    }
    return shares, grads


def share_multiplier(term: Tensor, others: Tensor, share: float) -> float:
    """The factor ``k >= 0`` that gives ``k * term`` the ``share`` of ``|others + k * term|``.

    Args:
        term: the balanced term's gradient ``a``, ``(P,)``.
        others: the sum of the other terms' gradients ``o``, ``(P,)``.
        share: the target ``s`` in ``(0, 1)``.

    Example:
        >>> a, o = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 3.0])
        >>> round(share_multiplier(a, o, 0.6), 6)  # |k a| = 0.6 |o + k a| for k = 2.25
        2.25
    """
    aa, ao, oo = float(term @ term), float(term @ others), float(others @ others)
    if aa == 0.0:
        return 1.0
    s2 = share * share
    quadratic = (1.0 - s2) * aa
    linear = s2 * ao
    return (linear + math.sqrt(linear * linear + quadratic * s2 * oo)) / quadratic


class ShareBalancer(nn.Module):
    """A multiplier on one term that keeps its share of the network's gradient near ``target``.

    Args:
        term: the balanced term's name (``"sinkhorn"`` or ``"potential"``).
        target: the share in ``(0, 1)``.
        smoothing: weight of a new solution in the log-space moving average (1: no smoothing).
        max_step: the largest factor by which one measurement changes the multiplier.

    The multiplier is a buffer, so it is saved and resumed with the checkpoint.
    """

    multiplier: Tensor

    def __init__(
        self, term: str, target: float, smoothing: float = 0.5, max_step: float = 100.0
    ) -> None:
        super().__init__()
        if not 0.0 < target < 1.0:
            raise ValueError(f"ShareBalancer: target share must be in (0, 1), got {target}")
        if not 0.0 < smoothing <= 1.0 or max_step <= 1.0:
            raise ValueError(
                f"ShareBalancer: need smoothing in (0, 1] and max_step > 1, got {smoothing}, "
                f"{max_step}"
            )
        self.term = term
        self.target = target
        self.smoothing = smoothing
        self.max_step = max_step
        self.register_buffer("multiplier", torch.ones((), dtype=torch.float64))

    def update(self, grads: dict[str, Tensor]) -> float:
        """Re-solve the multiplier from the weighted terms' gradients (the current multiplier
        included in the balanced term's); returns the new multiplier."""
        if self.term not in grads:
            return float(self.multiplier)
        others = torch.stack([g for name, g in grads.items() if name != self.term]).sum(0)
        solved = share_multiplier(grads[self.term], others, self.target)
        factor = min(max(solved, 1.0 / self.max_step), self.max_step) ** self.smoothing
        self.multiplier.mul_(factor)
        return float(self.multiplier)


@dataclass(frozen=True)
class ShareConfig:
    """The task's gradient-share diagnostics (``model.grad_shares`` in YAML; ``null``: none).

    Args:
        every: every this many network updates (and at the first), measure each loss term's
            share of the network's gradient (:func:`gradient_shares`: one extra backward per
            term on that step), logged as ``train/grad_share/<term>`` (the latest measurement
            at every logged step).
        alignment_share: keep the alignment term's (``sinkhorn`` or ``potential``) share near
            this value (:class:`ShareBalancer`, re-solved at every measurement; logged as
            ``train/alignment_multiplier``). None (default): the objective's plain weights.
        smoothing: weight of each new solution in the balancer's log-space moving average
            (1: use each measurement's solution as it is).
    """

    every: int = 100
    alignment_share: float | None = None
    smoothing: float = 0.5

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"grad_shares.every must be >= 1, got {self.every}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GradientShares(nn.Module):
    """Measures the terms' gradient shares every ``config.every`` steps and, with
    ``config.alignment_share``, balances the alignment term (:attr:`balancer`).

    Args:
        config: when and what (:class:`ShareConfig`).
        alignment_term: the objective's alignment term (None: nothing to balance).
    """

    def __init__(self, config: ShareConfig, alignment_term: str | None) -> None:
        super().__init__()
        self.every = config.every
        self.balancer: ShareBalancer | None = None
        if config.alignment_share is not None:
            if alignment_term is None:
                raise ValueError(
                    f"grad_shares.alignment_share={config.alignment_share} needs an alignment "
                    "term (objective.wb_solver 'sinkhorn' or 'potentials')"
                )
            self.balancer = ShareBalancer(alignment_term, config.alignment_share, config.smoothing)
        self.latest: dict[str, Tensor] = {}

    def scale(self, weighted: dict[str, Tensor]) -> dict[str, Tensor]:
        """``weighted`` with the balanced term times the balancer's multiplier."""
        if self.balancer is not None and self.balancer.term in weighted:
            term = self.balancer.term
            weighted[term] = weighted[term] * self.balancer.multiplier.to(weighted[term].dtype)
        return weighted

    def due(self, step: int) -> bool:
        return step % self.every == 0

    def measure(
        self,
        weighted: dict[str, Tensor],
        params: Sequence[nn.Parameter],
        mean: Callable[[Tensor], Tensor] | None,
    ) -> None:
        """Measure the shares (kept for logging) and re-solve the balancer; ``mean`` averages
        the multiplier over DDP ranks (each measured its own)."""
        shares, grads = gradient_shares(weighted, params)
        self.latest = {name: share.detach() for name, share in shares.items()}
        if self.balancer is not None:
            self.balancer.update(grads)
            if mean is not None:
                self.balancer.multiplier.copy_(mean(self.balancer.multiplier))

    def logged(self) -> dict[str, Tensor]:
        """What the task logs: ``grad_share/<term>`` and ``alignment_multiplier``."""
        values = {f"grad_share/{name}": value for name, value in self.latest.items()}
        if self.balancer is not None:
            values["alignment_multiplier"] = self.balancer.multiplier.float()
        return values
