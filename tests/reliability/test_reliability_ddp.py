"""A killed rank ends a distributed run: in a 2-process CPU DDP run (gloo), SIGKILL of rank 1
makes rank 0 exit within 60 s with a line naming rank 1; ``last.ckpt`` of the last completed
save loads, and resuming from it gives the uninterrupted run's weights at the next save.

Slow (three DDP runs, about 4 minutes on 2 loaded cores): ``pytest -m slow``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tiny_run import assert_same_weights, tiny_fit_args

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 400
DDP = [
    "--trainer.strategy",
    "ddp",
    "--trainer.devices",
    "2",
    "--trainer.callbacks.init_args.every_n_train_steps",
    "3",
]
LOST = (
    r"baryir fit: error: rank 1 \(pid {pid}\) was lost \(killed by SIGKILL\)"  # our guard
    r"|\[rank: 1\] Child process with PID {pid} terminated with code -9"  # Lightning's observer
)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "BARYIR_COLLECTIVE_TIMEOUT": "120",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")]),
    }


def _fit(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "baryir", *tiny_fit_args(root, 6, *DDP, *extra)],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.mark.slow
def test_killed_rank_ends_the_run_and_the_last_save_resumes(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    done = _fit(reference, "--trainer.callbacks.init_args.save_top_k", "-1")
    assert done.returncode == 0, done.stderr[-3000:]

    run = tmp_path / "killed"
    run.mkdir()
    marker = run / "at-step-4"
    pause = '{"class_path": "tiny_run.PauseAt", "init_args": {"at": 4, "seconds": 20, "marker": '
    pause += f'"{marker}"}}}}'
    log = (run / "run.log").open("w")
    main = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "baryir",
            *tiny_fit_args(run, 6, *DDP, f"--trainer.callbacks+={pause}"),
        ],
        cwd=run,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while not marker.exists():  # both ranks are at step 4; step 3 is saved
            assert main.poll() is None and time.monotonic() < deadline, (
                run / "run.log"
            ).read_text()[-3000:]
            time.sleep(0.1)
        children = subprocess.run(["pgrep", "-P", str(main.pid)], capture_output=True, text=True)
        (rank1,) = [int(pid) for pid in children.stdout.split()]
        killed = time.monotonic()
        os.kill(rank1, signal.SIGKILL)
        status = main.wait(timeout=60)
        took = time.monotonic() - killed
    finally:
        if main.poll() is None:
            main.kill()
            main.wait(timeout=30)
        log.close()
    said = (run / "run.log").read_text()
    assert status != 0 and took < 60
    assert re.search(LOST.format(pid=rank1), said), said[-3000:]
    print(f"\nrank 0 exited {took:.1f} s after rank 1's SIGKILL, status {status}")

    last = run / "ckpt" / "last.ckpt"
    assert _load(last)["global_step"] == 3  # the last completed save
    assert_same_weights(_load(last), _load(next((reference / "ckpt").glob("*step=3.ckpt"))))
    resumed = _fit(run, "--ckpt_path", "last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected = _load(next((reference / "ckpt").glob("*step=6.ckpt")))
    assert _load(last)["global_step"] == 6
    assert_same_weights(_load(last), expected)
