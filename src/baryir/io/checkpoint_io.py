"""A Lightning ``CheckpointIO`` that never leaves a partial checkpoint and never runs pickled code.

What it adds to Lightning's ``TorchCheckpointIO``: checkpoints are written through the one atomic
writer (:func:`baryir.io.atomic.atomic_path`: a temporary file in the checkpoint's own folder,
fsync, rename; Lightning stages a local file in the system's temporary folder and moves it
without fsync), and ``load_checkpoint`` always uses ``torch.load(weights_only=True)`` whatever
the trainer asks, refusing a checkpoint that needs code to unpickle with one line
(:class:`~baryir.io.checkpoint.UnsafeCheckpointError`). Before a ``last*.ckpt`` is replaced, the
file it replaces is kept as ``<name>.prev`` (a hard link: no copy), so a ``last.ckpt`` damaged
after it was written costs at most one save interval; a save that fails (a full disk) raises
an ``OSError`` that names the file and says the previous one is intact.

:func:`newest_checkpoint` finds the newest checkpoint of a folder that loads (what
``--ckpt_path last`` resumes from), skipping damaged ones and saying why.

The ``baryir`` command installs it by default (``trainer.plugins``, see :mod:`baryir.cli`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightning.pytorch.plugins.io import TorchCheckpointIO

from baryir.io.checkpoint import atomic_save, load_checkpoint

__all__ = [
    "LOW_SPACE",
    "PREVIOUS_SUFFIX",
    "AtomicCheckpointIO",
    "checkpoint_candidates",
    "keep_previous",
    "newest_checkpoint",
    "write_error_code",
]

log = logging.getLogger(__name__)

PREVIOUS_SUFFIX = ".prev"
"""Suffix of the kept previous ``last`` checkpoint (``last.ckpt.prev``)."""

LOW_SPACE = 64 * 2**20
"""Free bytes under which a failed checkpoint write is taken for a full disk."""


def keep_previous(path: Path) -> None:
    """Hard-link an existing ``last*.ckpt`` to ``<name>.prev`` before it is replaced, unless it
    is damaged (its zip directory unreadable: a cut file)."""
    if not (path.name.startswith("last") and zipfile.is_zipfile(path)):
        return  # nothing to keep, or a damaged file (the older ``.prev`` is kept instead)
    previous = path.with_name(path.name + PREVIOUS_SUFFIX)
    with contextlib.suppress(FileNotFoundError):
        previous.unlink()
    try:
        os.link(path, previous)
    except OSError as error:  # a filesystem without hard links: no fallback copy
        log.debug("could not keep %s as %s: %s", path, previous, error)


def write_error_code(error: BaseException, folder: Path) -> int | None:
    """The ``errno`` of a failed checkpoint write, or None when it is not a write error.

    torch's zip writer reports a full disk as ``RuntimeError: [enforce fail ...] unexpected
    pos``; it is taken as ``ENOSPC`` when the folder has less than :data:`LOW_SPACE` free, else
    as ``EIO``.
    """
    if isinstance(error, OSError):
        return error.errno or errno.EIO
    text = str(error)
    if "unexpected pos" not in text and "file write failed" not in text:
        return None
    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder).free < LOW_SPACE:
            return errno.ENOSPC
    return errno.EIO


def checkpoint_candidates(folder: Path) -> list[Path]:
    """The checkpoints of ``folder`` (``*.ckpt`` and kept ``*.ckpt.prev``), newest first."""
    found = [*folder.glob("*.ckpt"), *folder.glob(f"*.ckpt{PREVIOUS_SUFFIX}")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def newest_checkpoint(folder: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint of ``folder`` that loads, and the newer ones skipped (with why).

    Returns:
        ``(path or None, [(skipped path, one-line reason), ...])``.
    """
    skipped: list[tuple[Path, str]] = []
    for path in checkpoint_candidates(folder) if folder.is_dir() else []:
        try:
            checkpoint = load_checkpoint(path)
        except (OSError, ValueError) as error:
            skipped.append((path, " ".join(str(error).split())))
            continue
        if not isinstance(checkpoint.get("state_dict"), dict):
            skipped.append((path, "not a Lightning checkpoint (no state_dict)"))
            continue
        return path, skipped
    return None, skipped


class AtomicCheckpointIO(TorchCheckpointIO):
    """Local checkpoints written atomically and read with ``weights_only=True``.

    Example:
        >>> from lightning.pytorch import Trainer
        >>> trainer = Trainer(plugins=[AtomicCheckpointIO()])  # doctest: +SKIP
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        path = Path(path)
        keep_previous(path)
        try:
            atomic_save(checkpoint, path)
        except (OSError, RuntimeError) as error:
            code = write_error_code(error, path.parent)
            if code is None:
                raise
            reason = (error.strerror or str(error)) if isinstance(error, OSError) else None
            kept = "the previous one is intact" if path.is_file() else "nothing was written"
            raise OSError(
                code, f"cannot save checkpoint {path} ({reason or os.strerror(code)}); {kept}"
            ) from None

    def load_checkpoint(
        self,
        path: str | Path,
        map_location: Callable | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Load on the CPU with ``weights_only=True`` whatever ``weights_only`` says.

        Raises:
            FileNotFoundError, UnsafeCheckpointError, CheckpointError
            (``baryir.io.checkpoint``).
        """
        return load_checkpoint(path)
