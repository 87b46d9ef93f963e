"""Deprecated: the resilience callbacks moved to :mod:`baryir.tasks.callbacks`
(``rng_state.py``, ``preemption.py``); these names go in the next release."""

from __future__ import annotations

import warnings
from typing import Any

_MOVED = {
    "PreemptionCheckpoint",
    "RNGStateCallback",
    "collect_rng_states",
    "last_checkpoint_path",
    "set_rng_states",
}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from baryir.tasks import callbacks

    warnings.warn(
        f"baryir.tasks.resilience.{name} moved to baryir.tasks.callbacks.{name}; the old name "
        "goes in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(callbacks, name)
