"""A distributed run that loses a process ends at once, in one line naming the lost rank.

Under DDP a rank that dies (killed, out of memory) leaves the others in a collective: with gloo
the next one fails as soon as the peer's connection closes, and a rank that hangs is caught by
the collective timeout (:func:`limit_collective_wait`: :data:`COLLECTIVE_TIMEOUT` seconds
instead of torch's 30 minutes; ``BARYIR_COLLECTIVE_TIMEOUT`` sets it). :class:`LostRankGuard`
turns that failure into one line, ``baryir fit: error: rank R (pid P) was lost (killed by
SIGKILL); ...``, and ends the process with exit status 1 without the teardown that would wait on
the dead process group. The last completed checkpoint is intact (atomic writes): resume from it.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import timedelta

import torch.distributed
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.strategies import DDPStrategy

from baryir.lightning_private import collective_timeout, launched_processes, set_collective_timeout

__all__ = ["COLLECTIVE_TIMEOUT", "LostRankGuard", "limit_collective_wait"]

COLLECTIVE_TIMEOUT = 300
"""Seconds a rank waits in a collective for the others before the run fails."""

_COLLECTIVE_FAILURES = ("gloo", "nccl", "connection closed", "connection reset", "timed out")


def limit_collective_wait(trainer: Trainer) -> None:
    """Under DDP with torch's default timeout, wait :data:`COLLECTIVE_TIMEOUT` seconds (or
    ``BARYIR_COLLECTIVE_TIMEOUT``) in a collective, and add the :class:`LostRankGuard`."""
    strategy = trainer.strategy
    if not isinstance(strategy, DDPStrategy):
        return
    seconds = float(os.environ.get("BARYIR_COLLECTIVE_TIMEOUT", COLLECTIVE_TIMEOUT))
    if collective_timeout(strategy) == torch.distributed.constants.default_pg_timeout:
        set_collective_timeout(strategy, timedelta(seconds=seconds))
    trainer.callbacks.insert(0, LostRankGuard())


def _describe(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


class LostRankGuard(Callback):
    """Ends a DDP run whose collective failed because a rank is gone, naming that rank."""

    def __init__(self) -> None:
        self.parent = os.getppid()

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        text = str(exception).lower()
        collective = isinstance(exception, torch.distributed.DistError) or (
            isinstance(exception, RuntimeError) and any(s in text for s in _COLLECTIVE_FAILURES)
        )
        if trainer.world_size < 2 or not collective:
            return
        lost = []
        for index, process in enumerate(launched_processes(trainer.strategy.launcher)):
            if process.poll() is not None:  # the launching rank sees its children
                how = _describe(process.returncode)
                lost.append(f"rank {index + 1} (pid {process.pid}) was lost ({how})")
        if trainer.global_rank != 0 and os.getppid() != self.parent:
            lost.append(f"rank 0 (pid {self.parent}) was lost")
        said = "; ".join(lost) or f"a rank was lost ({' '.join(str(exception).split())[:200]})"
        command = trainer.state.fn.value if trainer.state.fn is not None else "fit"
        print(
            f"baryir {command}: error: {said}; rank {trainer.global_rank} stops the run: resume "
            "from the last checkpoint with --ckpt_path last",
            file=sys.stderr,
            flush=True,
        )
        if trainer.strategy.launcher is not None:
            trainer.strategy.launcher.kill(signal.SIGKILL)  # the other children, if any
        os._exit(1)
