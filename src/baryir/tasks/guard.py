"""Skip optimisation steps whose loss or gradients are not finite, and stop after too many.

Two ways to check (``RestorationTask``'s ``nonfinite_check``): *immediate* reads one flag on the
host every step and skips the step there; *deferred* leaves the flag on the device (fused
optimisers skip their update on it, as under a ``GradScaler``), counts on the device and reads the
counts once every logging interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from baryir.errors import RunFailure

log = logging.getLogger(__name__)


class NonFiniteLossError(RunFailure):
    """Raised when too many consecutive steps produced a non-finite loss or gradient."""


class NonFiniteGuard:
    """Count non-finite steps; raise after ``max_consecutive`` of them in a row.

    Immediate: a step may be checked several times (loss, gradient, potentials); a passing
    check does not end a run of failures, only :meth:`passed` (the whole step succeeded) does.
    Deferred: :meth:`record` adds a step's device flag to device counters; :meth:`flush` reads
    them (one host read), warns about the steps skipped since the last flush and raises as the
    immediate check would, up to one flush interval later.

    Args:
        max_consecutive: number of consecutive non-finite steps tolerated before
            :class:`NonFiniteLossError` is raised (the last good checkpoint stays as it is).
    """

    def __init__(self, max_consecutive: int = 10) -> None:
        if max_consecutive < 1:
            raise ValueError(f"max_nonfinite_steps must be >= 1, got {max_consecutive}")
        self.max_consecutive = max_consecutive
        self.consecutive = 0
        self.total = 0
        self._pending: torch.Tensor | None = None
        self._flushed_at = 0

    def check(self, what: str, step: int, *tensors: torch.Tensor) -> bool:
        """Return True when every tensor is finite; otherwise count the step and return False."""
        if all(bool(torch.isfinite(t).all()) for t in tensors):
            return True
        self.consecutive += 1
        self.total += 1
        log.warning(
            "non-finite %s at step %d: step skipped (%d in a row, %d in total)",
            what,
            step,
            self.consecutive,
            self.total,
        )
        if self.consecutive >= self.max_consecutive:
            raise NonFiniteLossError(
                f"{self.consecutive} consecutive steps had a non-finite {what} (last at step "
                f"{step}); stopping. The last checkpoint written is intact. Lower the learning "
                "rate, check the data, or raise model.max_nonfinite_steps."
            )
        return False

    def passed(self) -> None:
        """Record a step that went through every check: the consecutive count restarts."""
        self.consecutive = 0

    def record(self, bad: torch.Tensor, step: int) -> None:
        """Add one step's flag (a bool tensor, True when non-finite) to the device counters,
        with no host read: ``[consecutive, longest run, skipped, last skipped step]``."""
        bad = bad.to(torch.long)
        if self._pending is None:
            self._pending = torch.tensor([self.consecutive, self.consecutive, 0, -1])
        counts = self._pending = self._pending.to(bad.device)
        consecutive = (counts[0] + 1) * bad
        longest = torch.maximum(counts[1], consecutive)
        last = torch.where(bad.bool(), step, counts[3])
        counts.copy_(torch.stack([consecutive, longest, counts[2] + bad, last]))

    def pending_total(self) -> torch.Tensor | float:
        """Non-finite steps so far, flushed or not (a device tensor while counts are pending)."""
        if self._pending is None:
            return float(self.total)
        return (self._pending[2] + self.total).float()

    def flush(self, step: int) -> None:
        """Read the device counters (one host read): warn about the steps skipped since the
        last flush, then raise when a run of them reached ``max_consecutive``."""
        if self._pending is None:
            return
        consecutive, longest, skipped, last = self._pending.tolist()
        self._pending = None
        self.consecutive = consecutive
        self.total += skipped
        since, self._flushed_at = self._flushed_at, step
        if not skipped:
            return
        log.warning(
            "%d steps with a non-finite loss or gradient between step %d and step %d (the last "
            "at step %d) were skipped (%d in a row now, %d in total)",
            skipped,
            since,
            step,
            last,
            consecutive,
            self.total,
        )
        if longest >= self.max_consecutive:
            raise NonFiniteLossError(
                f"{longest} consecutive steps had a non-finite loss or gradient (checked at step "
                f"{step}, last at step {last}); stopping. No skipped step changed the weights. "
                "Lower the learning rate, check the data, or raise model.max_nonfinite_steps."
            )

    def state_dict(self) -> dict[str, int]:
        return {"consecutive": self.consecutive, "total": self.total}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._pending = None
        self.consecutive = int(state.get("consecutive", 0))
        self.total = int(state.get("total", 0))


def gradient_norms(module: nn.Module) -> torch.Tensor:
    """The L2 norm of every gradient of ``module``, shape ``(P,)`` (empty when none)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(0)
    return torch.stack(torch._foreach_norm(grads))


SKIPS_ON_DEVICE = (torch.optim.Adam, torch.optim.AdamW, torch.optim.Adagrad)
"""Optimisers whose fused kernel skips an update on a device flag (``found_inf``), leaving
weights and state bitwise unchanged (fused SGD with momentum writes a first momentum buffer
anyway, so it is left out)."""


def skips_on_device(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` can skip its update on a device flag (fused Adam, AdamW, Adagrad)."""
    return type(optimizer) in SKIPS_ON_DEVICE and bool(optimizer.defaults.get("fused"))


def step_unless(
    optimizer: torch.optim.Optimizer, bad: torch.Tensor, step: Callable[[], Any]
) -> Any:
    """Run ``step()`` (which steps ``optimizer``) with ``bad`` as the fused kernel's
    ``found_inf`` flag: when ``bad`` holds True, weights and state stay as they were."""
    optimizer.found_inf = bad.to(torch.float32)
    try:
        return step()
    finally:
        del optimizer.found_inf
