"""One run per folder: a second ``baryir fit`` into a folder that a live run holds stops in one
line naming that run; the lock dies with its process (two real processes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from test_reliability_commands import REPO, baryir, error_line

from baryir.io.run_lock import LOCK_NAME, FolderInUseError, RunLock
from tiny_run import tiny_fit_args

STARTUP_TIMEOUT = 300


def test_lock_refuses_a_second_holder_and_is_released(tmp_path: Path) -> None:
    first = RunLock(tmp_path / "ckpt")
    first.acquire()
    try:
        second = RunLock(tmp_path / "ckpt")
        try:
            second.acquire()
            raise AssertionError("a second holder got the lock")
        except FolderInUseError as error:
            assert f"pid {os.getpid()} on host {socket.gethostname()} since " in str(error)
        assert not second.held
    finally:
        first.release()
    assert not (tmp_path / "ckpt" / LOCK_NAME).exists()  # a run that ends removes its file
    again = RunLock(tmp_path / "ckpt")
    again.acquire()  # released: a new run gets it
    again.release()


def test_a_file_removed_under_a_waiting_opener_is_not_taken_for_the_lock(tmp_path: Path) -> None:
    """A run that opened the lock file just before the holder removed it gets the flock of a
    file no path names: it must open the new file, or two runs would hold 'the' lock."""
    holder = RunLock(tmp_path)
    holder.acquire()
    late = RunLock(tmp_path)
    stale = late.path.open("a+")  # opened while the holder still runs
    holder.release()  # removes the file, then unlocks
    try:
        assert not late._names(stale)
        late.acquire()  # opens and locks the file now at the path
        assert late._names(late._file) and late.path.is_file()
        third = RunLock(tmp_path)
        try:
            third.acquire()
            raise AssertionError("a second holder got the lock")
        except FolderInUseError:
            pass
    finally:
        stale.close()
        late.release()


def test_second_fit_into_a_live_runs_folder_stops_naming_it(tmp_path: Path) -> None:
    marker = tmp_path / "at-step-2"
    pause = f'{{"class_path": "tiny_run.PauseAt", "init_args": {{"at": 2, "marker": "{marker}"}}}}'
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")])}  # fmt: skip
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "baryir", *tiny_fit_args(tmp_path, 5),
             f"--trainer.callbacks+={pause}"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not marker.exists():
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the first run did not reach step 2"
            time.sleep(0.1)
        status, stderr = baryir(*tiny_fit_args(tmp_path, 5, "--seed_everything", "2"),
                                cwd=tmp_path)  # fmt: skip
        line = error_line(stderr)
        assert status == 2
        assert line.startswith(f"baryir fit: error: {tmp_path / 'ckpt'} is in use by another run")
        assert f"(pid {first.pid} on host {socket.gethostname()} since " in line
        assert first.poll() is None  # the first run goes on
        print(f"\n{line}")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    # the killed run left its lock file, but no lock: the next run starts over in the folder
    assert (tmp_path / "ckpt" / LOCK_NAME).is_file()
    status, stderr = baryir(*tiny_fit_args(tmp_path, 5, "--fresh", "true"), cwd=tmp_path)
    assert status == 0, stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "ckpt").glob("*.ckpt")) == ["last.ckpt"]
    assert not (tmp_path / "ckpt" / LOCK_NAME).exists()  # removed by the run that ended
