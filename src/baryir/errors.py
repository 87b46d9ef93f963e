"""The one error path of the ``baryir`` command: user errors in one line, bugs with a traceback.

Every command, Lightning's included, runs through :func:`run_guarded`; an argument error found
by the parser is a :class:`UsageError` printed by the same :func:`report_error`.

A *user error* is something the user can fix: a missing or damaged file, a bad value in a
config or on the command line, a full disk, too little memory, a diverged run. It ends the
command with one or two lines on stderr (what and where, then what to do) and exit status 2
for a bad command line, config or input (a missing, unreadable or damaged file, a bad value:
most are found before any work starts) or 1 for a run that failed while working (a full disk,
out of memory, a diverged run). Anything else is a bug of ours and keeps its traceback. Setting
``BARYIR_TRACEBACK=1`` shows the traceback of user errors too (for bug reports).
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Callable

import torch

__all__ = [
    "TRACEBACK_ENV",
    "ConfigError",
    "RunFailure",
    "UsageError",
    "exit_status",
    "is_user_error",
    "report_error",
    "run_guarded",
]

TRACEBACK_ENV = "BARYIR_TRACEBACK"
"""Set to 1 to print the traceback of user errors as well."""

_RUNNING = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS)


class ConfigError(ValueError):
    """A run that cannot work as configured, found before any work starts (exit status 2)."""


class UsageError(ValueError):
    """A bad command line found by the parser: an unknown option, a value of the wrong type, a
    missing argument (exit status 2)."""


class RunFailure(RuntimeError):
    """A run that failed while working, e.g. one that diverged (exit status 1)."""


def is_user_error(error: BaseException) -> bool:
    """Whether ``error`` is the user's to fix (see the module docstring), not a bug of ours."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    user = (
        OSError,
        ValueError,
        MemoryError,
        torch.OutOfMemoryError,
        MisconfigurationException,
        RunFailure,
    )
    return isinstance(error, user)


def exit_status(error: BaseException) -> int:
    """1 for a failure while working (a full disk, an I/O error, out of memory, a diverged
    run), 2 for a bad command line, config or input."""
    if isinstance(error, OSError) and error.errno in _RUNNING:
        return 1
    return 1 if isinstance(error, MemoryError | torch.OutOfMemoryError | RunFailure) else 2


def _hint(error: BaseException) -> str | None:
    if isinstance(error, MemoryError | torch.OutOfMemoryError):
        return "out of memory: lower data.batch_size or data.patch_size (restore: --tile 256)"
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full: free space there, then resume with --ckpt_path last"
    return None


def _message(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, OSError) and error.strerror:  # without the "[Errno 28]" prefix
        text = error.strerror + (f": {error.filename}" if error.filename else "")
    if isinstance(error, KeyError | torch.OutOfMemoryError) or not text:
        text = f"{type(error).__name__}: {text}".rstrip(": ")
    return text if len(text) <= 600 else text[:597] + "..."


def report_error(prog: str, error: BaseException) -> int:
    """Print ``error`` as ``prog: error: ...`` (plus a hint line where one helps) and return
    its exit status; with ``BARYIR_TRACEBACK=1`` the traceback (of a raised error) comes
    first."""
    if os.environ.get(TRACEBACK_ENV, "") not in ("", "0") and error.__traceback__ is not None:
        traceback.print_exception(error, file=sys.stderr)
    print(f"{prog}: error: {_message(error)}", file=sys.stderr)
    hint = _hint(error)
    if hint:
        print(f"{prog}: {hint}", file=sys.stderr)
    return exit_status(error)


def run_guarded(prog: str, work: Callable[[], int | None]) -> int:
    """Run ``work`` (a command) on the one error path; its exit status (None: 0).

    A user error (:func:`is_user_error`) ends in one line on stderr (:func:`report_error`) and
    its exit status; anything else, a bug, propagates with its traceback.
    """
    try:
        status = work()
    except Exception as error:
        if not is_user_error(error):
            raise
        return report_error(prog, error)
    return 0 if status is None else status
