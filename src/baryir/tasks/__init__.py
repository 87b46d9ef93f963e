"""Lightning tasks, their pieces and callbacks."""

from baryir.tasks.balance import ShareConfig
from baryir.tasks.barycenter import BarycenterConfig
from baryir.tasks.guard import GuardConfig, NonFiniteGuard, NonFiniteLossError
from baryir.tasks.restoration import RestorationTask

__all__ = [
    "BarycenterConfig",
    "GuardConfig",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "RestorationTask",
    "ShareConfig",
]
