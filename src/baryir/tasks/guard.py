"""Skip optimisation steps whose loss or gradients are not finite, and stop after too many."""

from __future__ import annotations

import logging

import torch
from torch import nn

from baryir.errors import RunFailure

log = logging.getLogger(__name__)


class NonFiniteLossError(RunFailure):
    """Raised when too many consecutive steps produced a non-finite loss or gradient."""


class NonFiniteGuard:
    """Count non-finite steps; raise after ``max_consecutive`` of them in a row.

    A step may be checked several times (loss, gradient, potentials); a passing check does not
    end a run of failures, only :meth:`passed` (the whole step succeeded) does.

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

    def state_dict(self) -> dict[str, int]:
        return {"consecutive": self.consecutive, "total": self.total}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.consecutive = int(state.get("consecutive", 0))
        self.total = int(state.get("total", 0))


def gradient_norms(module: nn.Module) -> torch.Tensor:
    """The L2 norm of every gradient of ``module``, shape ``(P,)`` (empty when none)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(0)
    return torch.stack(torch._foreach_norm(grads))
