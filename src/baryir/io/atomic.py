"""The one atomic file writer: a temporary file in the target folder, fsync, then rename.

Every file baryir writes (checkpoints, exported weights, converted weights, images, reports,
figures) goes through :func:`atomic_path`, so a reader never sees a partial file and a process
killed at any moment (even by SIGKILL) leaves either the previous file or the new one. A killed
writer may leave its ``.<name>.<random>.tmp`` file beside the target, never under its name.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text"]


def _fsync_dir(folder: Path) -> None:
    """Persist a rename (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds.

    The parent folders are created. After the block the temporary file is flushed to disk
    (``fsync``), renamed onto ``path`` (``os.replace``, atomic on POSIX and Windows) and the
    folder is synced. On any error the temporary file is removed and ``path`` is untouched.

    Example:
        >>> with atomic_path("out/result.txt") as tmp:  # doctest: +SKIP
        ...     tmp.write_text("done")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`; returns ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
