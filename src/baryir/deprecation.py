"""Old public names kept for one release: they still work and say what replaces them.

- :func:`warn_deprecated` warns once per call site (a ``DeprecationWarning``, or a
  ``FutureWarning`` for a config field);
- :func:`deprecated_names` is a module ``__getattr__`` (PEP 562) that serves old names of a
  module from their new home, warning on each use.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["deprecated_names", "warn_deprecated"]


def warn_deprecated(
    old: str, new: str, stacklevel: int = 3, category: type[Warning] = DeprecationWarning
) -> None:
    """Warn that ``old`` is deprecated (removed in the next release) in favour of ``new``.

    ``category``: ``DeprecationWarning`` for names that code imports (shown to developers);
    ``FutureWarning`` for what a config or command line sets (shown to every user).
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        category,
        stacklevel=stacklevel,
    )


def deprecated_names(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names``: old name -> ``"package.module:new_name"``.

    Example:
        >>> old = {"SourceDataset": "baryir.data.datasets.base:DegradationDataset"}
        >>> __getattr__ = deprecated_names("baryir.data", old)
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target, _, attribute = names[name].partition(":")
        warn_deprecated(f"{module}.{name}", f"{target}.{attribute}")
        return getattr(importlib.import_module(target), attribute)

    return __getattr__
