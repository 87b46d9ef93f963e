"""Long commands show a progress bar on a terminal, and nothing of it when piped."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from baryir.models import create_model, export_model

REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str], cwd: Path, terminal: bool) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "baryir", *argv]
    if not terminal:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stderr
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0, output[-2000:]
    os.close(leader)
    return output.decode("utf-8", "replace")


def test_restore_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    torch.manual_seed(0)
    weights = export_model(create_model("baryir-tiny", dim=8), tmp_path / "w.safetensors")
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(photos / f"p{i}.png")
    argv = ["restore", str(photos), "--ckpt", str(weights), "--output"]
    shown = _run([*argv, str(tmp_path / "a")], tmp_path, terminal=True)
    assert "restore: 100%" in shown and "3/3" in shown
    piped = _run([*argv, str(tmp_path / "b")], tmp_path, terminal=False)
    assert "restore:" not in piped and "it/s" not in piped and "image/s" not in piped
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["p0.png", "p1.png", "p2.png"]
