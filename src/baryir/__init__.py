"""baryir: all-in-one image restoration in a learned Wasserstein barycenter space.

The Python API mirrors the command line: :func:`restore` (``baryir restore``, from
:mod:`baryir.inference`) and :func:`evaluate` (``baryir suite`` / ``baryir compare``, from
:mod:`baryir.evaluation.runner`); networks come from :mod:`baryir.models`.

Example:
    >>> import baryir
    >>> from baryir.models import create_model
    >>> model = create_model("baryir-tiny")
    >>> out = baryir.restore(model, torch.rand(3, 64, 64))  # doctest: +SKIP
    >>> rows = baryir.evaluate(model, ["CBSD68:25", "Rain100H"], max_images=2)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

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
_FUNCTIONS = {"restore": "baryir.inference", "evaluate": "baryir.evaluation.runner"}
"""The functions of the Python API and the module each comes from."""


def __getattr__(name: str) -> Any:
    """Import submodules and ``restore``/``evaluate`` on first use, so ``import baryir`` is fast."""
    if name in _SUBMODULES:
        return importlib.import_module(f"baryir.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'baryir' has no attribute {name!r}")
