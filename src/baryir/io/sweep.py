"""A folder of temporary files that stays bounded: files older than an age are removed.

:class:`SweptFolder` owns a fresh temporary folder; a daemon thread removes, every ``every``
seconds, the files in it last modified more than ``age`` seconds ago (and the folders they
leave empty), except those a caller holds (:meth:`SweptFolder.holding`, e.g. the upload of a
request that waits for its turn); :meth:`SweptFolder.close` stops the thread and removes the
whole folder. Used by
``baryir app`` for each request's files and Gradio's upload cache.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SweptFolder", "remove_older"]


def remove_older(folder: Path, age: float, keep: Iterable[Path] = ()) -> int:
    """Remove the files under ``folder`` modified more than ``age`` seconds ago but those in
    ``keep``, then the folders left empty (``folder`` itself stays); the number removed."""
    cutoff = time.time() - age
    kept = {Path(p).resolve() for p in keep}
    paths = sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True)
    ages = {}
    for path in paths:  # before any removal touches a folder's time
        try:
            ages[path] = path.lstat().st_mtime
        except FileNotFoundError:
            continue
    removed = 0
    for path, modified in ages.items():
        if modified >= cutoff or path.resolve() in kept:
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # only when empty (OSError otherwise)
            else:
                path.unlink()
                removed += 1
        except OSError:
            continue  # removed by its owner meanwhile, or a folder not empty
    return removed


class SweptFolder:
    """A new temporary folder (``prefix`` in its name) swept every ``every`` seconds of the
    files older than ``age`` seconds."""

    def __init__(self, prefix: str, age: float, every: float) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self.age = age
        self._held: Counter[Path] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    @contextmanager
    def holding(self, paths: Iterable[Path]) -> Iterator[None]:
        """Keep ``paths`` whatever their age while the block runs."""
        held = [Path(p).resolve() for p in paths]
        with self._lock:
            self._held.update(held)
        try:
            yield
        finally:
            with self._lock:
                self._held.subtract(held)
                self._held = +self._held

    def sweep(self) -> int:
        """Remove the files older than ``age`` that nobody holds now; how many."""
        with self._lock:
            keep = list(self._held)
        return remove_older(self.path, self.age, keep)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.sweep()

    def close(self) -> None:
        """Stop sweeping and remove the folder with everything in it."""
        self._stop.set()
        self._thread.join()
        shutil.rmtree(self.path, ignore_errors=True)
