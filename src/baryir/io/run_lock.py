"""One run per folder: an advisory lock a run holds on its checkpoint folder for its whole life.

The lock is ``fcntl.flock`` on ``<folder>/.baryir-run.lock``; the operating system releases it
when the process ends, however it ends (a killed run never leaves a stale lock). The file says
who holds it (process id, host, start time), so a second run into the folder can name the first.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import IO

__all__ = ["LOCK_NAME", "FolderInUseError", "RunLock"]

LOCK_NAME = ".baryir-run.lock"
"""Name of the lock file in the locked folder."""


class FolderInUseError(RuntimeError):
    """Another live process holds the folder's lock."""


class RunLock:
    """The lock of ``folder`` (created if missing); :meth:`acquire` takes it, :meth:`release`
    gives it back (also done by the OS when the process ends)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._file: IO[str] | None = None

    def holder(self) -> str:
        """Who the lock file says holds it: ``pid P on host H since T``."""
        try:
            said = json.loads(self.path.read_text())
            return f"pid {said['pid']} on host {said['host']} since {said['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "a process that has not written its name yet"

    def acquire(self) -> None:
        """Take the lock and write this process into the file.

        Raises:
            FolderInUseError: another live process holds it (the message names that process).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise FolderInUseError(
                f"{self.path.parent} is in use by another run ({self.holder()}): wait for it "
                "to end, or train into another folder"
            ) from None
        started = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())
        handle.seek(0)
        handle.truncate()
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": started}, handle)
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock back (the file stays; a lock, not the file, marks a live run)."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._file is not None
