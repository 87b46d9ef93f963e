"""A Lightning ``CheckpointIO`` that never leaves a partial checkpoint and never runs pickled code.

``save_checkpoint`` writes ``<folder>/.<name>.<random>.tmp``, flushes and ``fsync``s it, moves it
onto the target with ``os.replace`` (atomic on POSIX and Windows) and ``fsync``s the folder, so
a process killed at any moment (even by SIGKILL) leaves either the previous ``last.ckpt`` or the
new one, never a truncated file. ``load_checkpoint`` always uses ``torch.load(weights_only=True)``:
a checkpoint that needs code to unpickle is refused with :class:`UnsafeCheckpointError`.

The ``baryir`` command installs it by default (``trainer.plugins``).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO

from baryir.io.checkpoint import load_checkpoint

__all__ = ["AtomicCheckpointIO", "atomic_torch_save"]


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


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj, path)`` through a temporary file in the same folder, fsync and rename.

    On any error (or if the process dies) ``path`` keeps its previous content; the temporary
    file is removed when the error is a Python exception.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Local checkpoints written atomically and read with ``weights_only=True``.

    Example:
        >>> from lightning.pytorch import Trainer
        >>> trainer = Trainer(plugins=[AtomicCheckpointIO()])  # doctest: +SKIP
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(
        self,
        path: _PATH,
        map_location: Callable | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Load on the CPU with ``weights_only=True`` whatever ``weights_only`` says.

        Raises:
            FileNotFoundError, UnsafeCheckpointError, CheckpointError
            (``baryir.io.checkpoint``).
        """
        return load_checkpoint(path)
