"""One run per folder: an advisory lock a run holds on its checkpoint folder for its whole life.

The lock is ``fcntl.flock`` on ``<folder>/.baryir-run.lock``; the operating system releases it
when the process ends, however it ends (a killed run never leaves a stale lock: a file it leaves
is unlocked, and the next run takes it). The file says who holds it (process id, host, start
time), so a second run into the folder can name the first. A run that ends normally removes the
file while it still holds the lock; a run that opened the file before that finds, once it has
the lock, that the path no longer names its file, and opens the new one.
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
        while True:
            handle = self.path.open("a+")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise FolderInUseError(
                    f"{self.path.parent} is in use by another run ({self.holder()}): wait for "
                    "it to end, or train into another folder"
                ) from None
            if self._names(handle):
                break
            handle.close()  # removed by the run that held it: lock the file now there
        started = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())
        handle.seek(0)
        handle.truncate()
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": started}, handle)
        handle.flush()
        self._file = handle

    def _names(self, handle: IO[str]) -> bool:
        """Whether the lock's path still names the file ``handle`` has open."""
        try:
            return os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Remove the lock file and give the lock back (removed first, while still held)."""
        if self._file is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._file is not None
