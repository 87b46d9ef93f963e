"""A stop request (SIGTERM or Ctrl-C) that lets a folder job finish the item in hand and stop.

:class:`StopRequest` runs a loop over items: the first SIGTERM or SIGINT marks the request, the
loop ends before the next item and :attr:`StopRequest.signum` says which signal came; a second
one stops at once (``KeyboardInterrupt``). The previous handlers are back when the loop ends.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import TypeVar

__all__ = ["StopRequest"]

T = TypeVar("T")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Whether, and by which signal, the process was asked to stop."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def name(self) -> str:
        """The signal's name (``SIGTERM``), or an empty string when none came."""
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @property
    def exit_status(self) -> int:
        """``128 + signum``, what a shell reports for a process ended by the signal."""
        return 128 + (self.signum or 0)

    def _mark(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def until_stopped(self, items: Iterable[T]) -> Iterator[T]:
        """The items, until a stop is requested (checked before each one)."""
        previous = {signum: signal.signal(signum, self._mark) for signum in _SIGNALS}
        try:
            for item in items:
                if self.signum is not None:
                    return
                yield item
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
