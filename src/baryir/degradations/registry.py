"""The degradation names users write (``"noise:25"``, ``--data.tasks``, suite files).

Each class registers its name where it is defined, with :func:`register_degradation`, together
with what ``name:ARG`` means for it (the data :func:`~baryir.degradations.build_degradation`
reads): a number or ``MIN-MAX`` for one constructor argument, a named level, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from baryir.degradations.base import Degradation
from baryir.registry import Registry

__all__ = [
    "DegradationEntry",
    "available_degradations",
    "degradation_entry",
    "register_degradation",
]

D = TypeVar("D", bound=type[Degradation])


@dataclass(frozen=True)
class DegradationEntry:
    """A registered degradation: its class and what ``name:ARG`` sets.

    Attributes:
        cls: the class; ``cls()`` is ``name`` without an argument.
        argument: the constructor argument ``name:N`` / ``name:MIN-MAX`` sets.
        levels: named levels (``name:LEVEL`` -> constructor arguments), instead of ``argument``.
    """

    cls: type[Degradation]
    argument: str | None = None
    levels: Mapping[str, Mapping[str, Any]] | None = None


_DEGRADATIONS = Registry[DegradationEntry]("degradation")


def register_degradation(
    name: str, argument: str | None = None, levels: Mapping[str, Mapping[str, Any]] | None = None
) -> Callable[[D], D]:
    """Class decorator: register the class under ``name`` (its ``name`` and ``argument``).

    Args:
        name: what specs write.
        argument: the constructor argument ``name:ARG`` sets (a number or ``MIN-MAX``).
        levels: named levels ``name:LEVEL`` instead (``argument`` is then ``None``); neither:
            the degradation takes no argument.
    """
    if argument is not None and levels is not None:
        raise ValueError(f"register_degradation({name!r}): give argument or levels, not both")

    def decorator(cls: D) -> D:
        cls.name, cls.argument = name, argument
        _DEGRADATIONS.add(name, DegradationEntry(cls, argument, levels))
        return cls

    return decorator


def available_degradations() -> list[str]:
    """The names :func:`~baryir.degradations.build_degradation` accepts, sorted."""
    return _DEGRADATIONS.names()


def degradation_entry(name: str) -> DegradationEntry:
    """The entry of ``name`` (a ``ValueError`` listing the valid names when there is none)."""
    return _DEGRADATIONS.get(name)
