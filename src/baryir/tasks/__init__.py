"""Lightning tasks and callbacks."""

from baryir.tasks.guard import NonFiniteGuard, NonFiniteLossError
from baryir.tasks.restoration import RestorationTask

__all__ = ["NonFiniteGuard", "NonFiniteLossError", "RestorationTask"]
