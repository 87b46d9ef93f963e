"""Deprecated: the resilience callbacks moved to :mod:`baryir.tasks.callbacks`
(``rng_state.py``, ``preemption.py``); these names go in the next release."""

from __future__ import annotations

from baryir.deprecation import deprecated_names

_MOVED = (
    "PreemptionCheckpoint",
    "RNGStateCallback",
    "collect_rng_states",
    "last_checkpoint_path",
    "set_rng_states",
)
__getattr__ = deprecated_names(
    __name__, {name: f"baryir.tasks.callbacks:{name}" for name in _MOVED}
)
