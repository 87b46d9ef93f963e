"""Where a result comes from: the code's git revision and the machine it ran on.

The one place for both. :func:`git_revision` is what training logs (``run/git_revision``) and
:func:`describe_revision` what a study's report states; both read the repository that holds this
package (an editable install or a checkout), never the working directory, and run git read-only
(``GIT_OPTIONAL_LOCKS=0``: no index refresh, so a run beside a ``git`` command in progress
changes nothing).
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import torch

__all__ = ["describe_revision", "git_revision", "machine_description", "timestamp"]

UNKNOWN = "unknown"
"""What :func:`git_revision` returns outside a git checkout."""


def _git(args: list[str], path: str | Path | None) -> str:
    """The stripped output of ``git <args>`` in ``path`` (default: this package's folder)."""
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    ).stdout.strip()


def git_revision(path: str | Path | None = None) -> str:
    """``git rev-parse HEAD`` of the repository holding ``path`` (default: this package), or
    ``"unknown"`` outside a git checkout."""
    try:
        return _git(["rev-parse", "HEAD"], path) or UNKNOWN
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN


def describe_revision(path: str | Path | None = None) -> str:
    """:func:`git_revision`, marked ``(with uncommitted changes)`` when tracked files differ
    from it, or ``unknown (not a git checkout)``."""
    revision = git_revision(path)
    if revision == UNKNOWN:
        return f"{UNKNOWN} (not a git checkout)"
    try:
        changed = _git(["status", "--porcelain", "--untracked-files=no"], path)
    except (OSError, subprocess.SubprocessError):
        return f"{UNKNOWN} (not a git checkout)"
    return f"{revision} (with uncommitted changes)" if changed else revision


def machine_description() -> str:
    """CPU model and count, GPU, OS, Python/torch versions, load average."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, {gpu}; {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average (1/5/15 min) {load}"
    )


def timestamp() -> str:
    """Now, in the local time zone, ISO 8601 to the second (``2026-12-02T17:05:00+00:00``)."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
