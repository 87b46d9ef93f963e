"""An interrupted folder job resumes: ``baryir restore`` stopped by SIGTERM mid-folder says how
many outputs are done and prints the command that resumes; that command (``--skip-existing``)
keeps them and restores the rest, into the outputs of an uninterrupted run (real processes)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
IMAGES = 24
TIMEOUT = 300


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}


def _folder(root: Path) -> Path:
    folder = root / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(IMAGES):
        pixels = rng.integers(0, 256, (160, 192, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{index:02d}.png")
    return folder


def _weights(root: Path) -> Path:
    from baryir.models import create_model, export_model

    torch.manual_seed(0)
    return export_model(create_model("baryir-tiny", dim=8), root / "tiny.safetensors")


def test_sigterm_mid_folder_then_skip_existing_resumes(tmp_path: Path) -> None:
    folder, weights = _folder(tmp_path), _weights(tmp_path)
    command = [sys.executable, "-m", "baryir", "restore", str(folder), "--ckpt", str(weights)]
    reference = tmp_path / "reference"
    done = subprocess.run(
        [*command, "--output", str(reference)],
        env=_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    output = tmp_path / "out"
    process = subprocess.Popen(
        [*command, "--output", str(output)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + TIMEOUT
    while not list(output.glob("*.png")):  # the first output is written: mid-folder
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    written = sorted(p.name for p in output.iterdir())
    assert all(name.endswith(".png") for name in written)  # no partial or temporary file
    said = re.search(
        rf"stopped by SIGTERM: (\d+) of {IMAGES} outputs are in (.+); resume with:", stderr
    )
    assert said is not None, stderr[-3000:]
    assert int(said.group(1)) == len(written) and 1 <= len(written) < IMAGES
    kept = {name: (output / name).stat().st_mtime_ns for name in written}

    resume = shlex.split(stderr.strip().splitlines()[-1])
    assert resume[:2] == ["baryir", "restore"] and resume[-1] == "--skip-existing"
    again = subprocess.run(
        [sys.executable, "-m", "baryir", *resume[1:]],
        env=_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert (
        f"restored {IMAGES - len(written)} of {IMAGES} images into {output} "
        f"({len(written)} were there already)" in again.stdout
    )
    assert {name: (output / name).stat().st_mtime_ns for name in written} == kept  # not redone
    print(
        f"\nstopped after {len(written)} of {IMAGES}; the resumed run restored the other "
        f"{IMAGES - len(written)}"
    )
    names = sorted(p.name for p in reference.iterdir())
    assert sorted(p.name for p in output.iterdir()) == names
    for name in names:
        assert (output / name).read_bytes() == (reference / name).read_bytes(), name
