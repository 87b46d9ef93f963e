"""Skip optimisation steps whose loss or gradients are not finite, and stop after too many.

Two ways to check (``RestorationTask``'s ``guard.check``, :class:`GuardConfig`): *immediate*
reads one flag on the host every step and skips the step there; *deferred* leaves the flag on
the device (fused optimisers skip their update on it, as under a ``GradScaler``), counts on the
device and reads the counts once every logging interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch

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
            raise ValueError(f"guard.max_nonfinite_steps must be >= 1, got {max_consecutive}")
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
                "rate, check the data, or raise model.guard.max_nonfinite_steps."
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
                "Lower the learning rate, check the data, or raise model.guard.max_nonfinite_steps."
            )

    def state_dict(self) -> dict[str, int]:
        return {"consecutive": self.consecutive, "total": self.total}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._pending = None
        self.consecutive = int(state.get("consecutive", 0))
        self.total = int(state.get("total", 0))


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


@dataclass(frozen=True)
class GuardConfig:
    """The task's non-finite guard (``model.guard`` in YAML; ``null``: no guard).

    Args:
        max_nonfinite_steps: consecutive non-finite steps tolerated before the run stops.
        check: ``immediate``: one host read a step; a skipped step is named at once and does
            not advance ``global_step`` or the schedule. ``deferred``: no host read; the fused
            optimisers skip the update on the device flag (as under a ``GradScaler``), the
            weight average holds still, and the counts are read, warned about and checked
            every ``trainer.log_every_n_steps``, at epoch ends and at checkpoints; a skipped
            step still counts in ``global_step`` and the schedule. ``auto``: deferred where
            every optimiser can skip on the device (fused Adam, AdamW, Adagrad), else
            immediate.
    """

    max_nonfinite_steps: int = 10
    check: Literal["auto", "immediate", "deferred"] = "auto"

    def __post_init__(self) -> None:
        if self.check not in ("auto", "immediate", "deferred"):
            raise ValueError(
                f"guard.check must be 'auto', 'immediate' or 'deferred', got {self.check!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TrainingGuard(NonFiniteGuard):
    """The guard of a training step, in the mode of ``config``.

    An update computes its flag and asks whether to drop it (:meth:`inspect`: in immediate
    mode the step's one host read), updates through :meth:`step` (deferred mode: the fused
    kernel skips on the flag) and the step ends with :meth:`end_step`.
    """

    def __init__(self, config: GuardConfig) -> None:
        super().__init__(config.max_nonfinite_steps)
        self.mode = config.check
        self.deferred = False

    def configure(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        """Resolve the mode for these optimisers (see :class:`GuardConfig`)."""
        able = all(skips_on_device(opt) for opt in optimizers)
        if self.mode == "deferred" and not able:
            names = ", ".join(type(opt).__name__ for opt in optimizers if not skips_on_device(opt))
            raise ValueError(
                f"guard.check='deferred' needs optimisers that skip a step on the device "
                f"(fused Adam, AdamW or Adagrad); {names} cannot: use 'immediate' or 'auto'"
            )
        self.deferred = able and self.mode != "immediate"

    def inspect(
        self, what: str, step: int, loss: torch.Tensor, grads: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor | None, bool]:
        """``(bad, drop)``: ``bad`` (a bool tensor) is set when ``loss`` or a gradient is not
        finite; ``drop`` (immediate mode, one host read) says the update must be dropped now,
        the step counted and named (``what`` loss or gradient). Deferred: ``drop`` is False."""
        norms = torch.stack(torch._foreach_norm(list(grads))) if grads else torch.zeros(0)
        bad = ~(torch.isfinite(loss) & torch.isfinite(norms).all())
        if self.deferred or not bool(bad):
            return bad, False
        if self.check(f"{what}loss", step, loss):
            self.check(f"{what}gradient", step, norms)
        return bad, True

    def step(
        self, optimizer: torch.optim.Optimizer, bad: torch.Tensor | None, run: Callable[[], Any]
    ) -> Any:
        """``run()`` (which steps ``optimizer``), skipped on the device when ``bad`` is set in
        deferred mode."""
        return step_unless(optimizer, bad, run) if self.deferred and bad is not None else run()

    def end_step(self, bad: torch.Tensor | None, step: int, every: int, passed: bool) -> None:
        """Deferred: record ``bad`` and read the counts every ``every`` steps. Immediate: a
        ``passed`` step restarts the consecutive count."""
        if self.deferred and bad is not None:
            self.record(bad, step)
            if (step + 1) % every == 0:
                self.flush(step + 1)
        elif passed:
            self.passed()


class NoGuard(TrainingGuard):
    """No guard (``model.guard: null``): every update goes through, nothing is read or counted."""

    def __init__(self) -> None:
        super().__init__(GuardConfig())

    def configure(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        self.deferred = False

    def check(self, what: str, step: int, *tensors: torch.Tensor) -> bool:
        return True

    def inspect(
        self, what: str, step: int, loss: torch.Tensor, grads: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor | None, bool]:
        return None, False
