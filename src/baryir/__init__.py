"""baryir: all-in-one image restoration in a learned Wasserstein barycenter space."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "data",
    "degradations",
    "evaluate",
    "inference",
    "io",
    "losses",
    "metrics",
    "models",
    "restore",
    "tasks",
]

_SUBMODULES = {"data", "degradations", "inference", "io", "losses", "metrics", "models", "tasks"}
_API = {"restore", "evaluate"}


def __getattr__(name: str) -> Any:
    """Import submodules and ``restore``/``evaluate`` on first use, so ``import baryir`` is fast."""
    if name in _SUBMODULES:
        return importlib.import_module(f"baryir.{name}")
    if name in _API:
        from baryir import api

        return getattr(api, name)
    raise AttributeError(f"module 'baryir' has no attribute {name!r}")
