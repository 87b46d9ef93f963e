"""The swept temporary folder of ``baryir app``: old files go, held and recent ones stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

from baryir.io.sweep import SweptFolder, remove_older


def _aged(path: Path, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 10)
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_remove_older_keeps_recent_and_held_files(tmp_path: Path) -> None:
    old = _aged(tmp_path / "a" / "old.png", 100)
    held = _aged(tmp_path / "b" / "held.png", 100)
    recent = _aged(tmp_path / "c" / "recent.png", 1)
    os.utime(tmp_path / "a", (time.time() - 100, time.time() - 100))
    assert remove_older(tmp_path, 50, keep=[held]) == 1
    assert not old.exists() and not (tmp_path / "a").exists()  # its emptied folder too
    assert held.exists() and recent.exists() and tmp_path.is_dir()


def test_swept_folder_holds_while_a_request_runs_and_goes_on_close(tmp_path: Path) -> None:
    files = SweptFolder("test-", age=50, every=3600)  # swept by hand here
    try:
        upload = _aged(files.path / "gradio" / "photo.png", 100)
        with files.holding([upload]):
            assert files.sweep() == 0 and upload.exists()
        assert files.sweep() == 1 and not upload.exists()
    finally:
        files.close()
    assert not files.path.exists()
