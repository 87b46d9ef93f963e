"""Named entries filled at definition time: the one registry style of models and degradations.

A registry maps a name (what users write: ``--model baryir-tiny``, ``"noise:25"``) to an entry
(a class and the data that builds it). Each package registers its classes where they are
defined, with a decorator (:func:`baryir.models.register_model`,
:func:`baryir.degradations.register_degradation`), so every name is written once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> entries of one ``kind`` ("model", "degradation"), each name added once.

    Example:
        >>> colours = Registry[int]("colour")
        >>> colours.add("red", 1)
        >>> colours.names(), colours.get("red")
        (['red'], 1)
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T, replace: bool = False) -> None:
        """Register ``entry`` under ``name``; a name registered twice is an error unless
        ``replace`` (the same definition run again, e.g. a module imported again)."""
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry

    def get(self, name: str) -> T:
        """The entry of ``name``; an error listing the valid names when there is none."""
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; valid names: {self.names()}")
        return self._entries[name]

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
