"""Deprecated: suites moved to :mod:`baryir.data.suites` (the data module reads them too); these
names go in the next release."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    from baryir.data import suites

    if name not in suites.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"baryir.evaluation.suites.{name} moved to baryir.data.suites.{name}; the old name goes "
        "in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(suites, name)
