"""Crash-safe training through the ``baryir`` command: SIGKILL, SIGTERM, SIGUSR1, determinism.

Every run is the tiny config with the dual potentials (two optimisers, two schedulers),
``--trainer.deterministic true`` and a checkpoint every 3 steps. The reference runs twice
in-process for 20 steps; the interrupted runs are subprocesses (``python -m baryir fit``) that
are killed and then resumed in-process with ``--ckpt_path last`` up to step 12, where their
checkpoint must equal the reference's ``step=12`` checkpoint.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from baryir.cli import main
from baryir.io.checkpoint_io import AtomicCheckpointIO
from tiny_run import SendSignal, add_callbacks, assert_same_weights, tiny_fit_args

REPO = Path(__file__).resolve().parents[2]
COMMON = [
    "--trainer.deterministic",
    "true",
    "--model.objective.wb_solver",
    "potentials",
    "--model.objective.potentials_patch_size",
    "32",
    "--trainer.callbacks.init_args.every_n_train_steps",
    "3",
]
RESUME_STEPS = 12
STARTUP_TIMEOUT = 240.0


def fit_args(root: Path, max_steps: int, *extra: str) -> list[str]:
    return tiny_fit_args(root, max_steps, *COMMON, *extra)


def checkpoints(folder: Path) -> list[str]:
    """The checkpoint files of ``folder``, without the kept previous ``last`` (``.prev``)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".prev"))


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def losses(root: Path) -> list[float]:
    rows = csv.DictReader(next(root.rglob("metrics.csv")).open())
    return [float(row["train/loss"]) for row in rows if row.get("train/loss")]


@pytest.fixture(autouse=True)
def _restore_torch_flags() -> Iterator[None]:
    """``deterministic=True`` switches a global torch flag; leave it as found."""
    flag = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(flag)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two uninterrupted 20-step runs with the same seed (checkpoints kept every 3 steps)."""
    flag = torch.are_deterministic_algorithms_enabled()
    roots = []
    for name in ("ref1", "ref2"):
        root = tmp_path_factory.mktemp(name)
        main(fit_args(root, 20, "--trainer.callbacks.init_args.save_top_k", "-1"))
        roots.append(root)
    torch.use_deterministic_algorithms(flag)
    return roots[0], roots[1]


def test_same_seed_same_losses(reference: tuple[Path, Path]) -> None:
    first, second = (losses(root) for root in reference)
    assert len(first) == 20
    assert first == second


def assert_same_training_state(resumed: dict, expected: dict) -> None:
    assert resumed["global_step"] == expected["global_step"] == RESUME_STEPS
    assert_same_weights(resumed, expected)
    for got, want in zip(resumed["optimizer_states"], expected["optimizer_states"], strict=True):
        for index, state in want["state"].items():
            for name, value in state.items():
                torch.testing.assert_close(got["state"][index][name], value, rtol=1e-6, atol=1e-7)
    assert resumed["lr_schedulers"] == expected["lr_schedulers"]
    assert resumed["nonfinite_guard"] == expected["nonfinite_guard"]


def start_subprocess(root: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(torch.get_num_threads()),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")]),
    }
    log = root / "run.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "baryir", *fit_args(root, RESUME_STEPS, *extra)],
        env=env,
        cwd=root,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, log


def wait_for_checkpoint(process: subprocess.Popen, last: Path, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not last.exists():
        if process.poll() is not None:
            pytest.fail(f"training ended before its first checkpoint:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("no checkpoint within the timeout")
        time.sleep(0.05)


def test_sigkill_then_resume_matches_uninterrupted(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    # The run pauses at the start of step 7 (tiny_run.PauseAt) and says so with a marker file:
    # the kill lands at a step it is known to have reached, whatever the machine's speed.
    marker = tmp_path / "at-step-7"
    pause = f'{{"class_path": "tiny_run.PauseAt", "init_args": {{"at": 7, "marker": "{marker}"}}}}'
    process, log = start_subprocess(tmp_path, f"--trainer.callbacks+={pause}")
    last = tmp_path / "ckpt" / "last.ckpt"
    wait_for_checkpoint(process, last, log)
    # Read last.ckpt while the run rewrites it: the atomic writes mean every read sees a
    # complete checkpoint, never a partial one.
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not marker.exists():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the run did not reach step 7"
        assert load(last)["global_step"] % 3 == 0
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert load(last)["global_step"] == 6  # the checkpoints of steps 3 and 6, not 9

    main(fit_args(tmp_path, RESUME_STEPS, "--ckpt_path", "last"))
    expected = load(next((reference[0] / "ckpt").glob(f"*step={RESUME_STEPS}.ckpt")))
    assert_same_training_state(load(last), expected)


def test_sigterm_saves_stops_and_resumes(reference: tuple[Path, Path], tmp_path: Path) -> None:
    process, log = start_subprocess(tmp_path)
    last = tmp_path / "ckpt" / "last.ckpt"
    wait_for_checkpoint(process, last, log)
    time.sleep(random.Random(1).uniform(0.0, 1.5))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
    stopped_at = load(last)["global_step"]
    assert 3 <= stopped_at < RESUME_STEPS
    assert f"SIGTERM received: saved {last} at step {stopped_at}" in log.read_text()

    main(fit_args(tmp_path, RESUME_STEPS, "--ckpt_path", "last"))
    expected = load(next((reference[0] / "ckpt").glob(f"*step={RESUME_STEPS}.ckpt")))
    assert_same_training_state(load(last), expected)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_sigusr1_at_epoch_end_saves_stops_and_resumes(
    reference: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process; the signal lands in the last batch of epoch 0 (4 batches an epoch)."""
    sender = SendSignal(signal.SIGUSR1, at=3)
    add_callbacks(monkeypatch, sender)
    previous = signal.getsignal(signal.SIGUSR1)
    main(fit_args(tmp_path, RESUME_STEPS))
    last = tmp_path / "ckpt" / "last.ckpt"
    assert load(last)["global_step"] == 4
    assert signal.getsignal(signal.SIGUSR1) == previous
    assert isinstance(sender.checkpoint_io, AtomicCheckpointIO)  # the CLI's default

    add_callbacks(monkeypatch)
    main(fit_args(tmp_path, RESUME_STEPS, "--ckpt_path", "last"))
    expected = load(next((reference[0] / "ckpt").glob(f"*step={RESUME_STEPS}.ckpt")))
    assert_same_training_state(load(last), expected)


def test_sampler_resume_skips_done_batches_of_that_epoch_only() -> None:
    from baryir.data.samplers import SourceBalancedBatchSampler

    sources = [0] * 8 + [1] * 8 + [2] * 8
    sampler = SourceBalancedBatchSampler(sources, batch_size=6, seed=3)
    sampler.set_epoch(2)
    full = list(sampler)
    sampler.resume(2, 3)
    assert list(sampler) == full[3:]
    assert list(sampler) == full  # once only
    sampler.resume(2, 4)  # written at the end of epoch 2: epoch 3 comes next, whole
    sampler.set_epoch(3)
    assert len(list(sampler)) == 4


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_preemption_with_last_only_checkpointing_keeps_one_last_and_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quickstart's checkpointing (``save_last`` only, ``save_top_k: 0``, no periodic saves):
    after a mid-epoch SIGUSR1 the folder holds one ``last.ckpt``. Lightning's ModelCheckpoint
    used to add a ``last-v1.ckpt`` at train end, after the stopped loop had counted the epoch as
    finished, and ``--ckpt_path last`` resumed from it, skipping the rest of the epoch."""

    def run(root: Path, *extra: str) -> None:
        main(tiny_fit_args(root, 8, "--trainer.deterministic", "true", *extra))

    run(tmp_path / "ref")
    add_callbacks(monkeypatch, SendSignal(signal.SIGUSR1, at=5))  # epoch 1 is steps 4-7
    run(tmp_path / "cut")
    assert checkpoints(tmp_path / "cut" / "ckpt") == ["last.ckpt"]
    assert load(tmp_path / "cut" / "ckpt" / "last.ckpt")["global_step"] == 6
    add_callbacks(monkeypatch)
    run(tmp_path / "cut", "--ckpt_path", "last")
    assert checkpoints(tmp_path / "cut" / "ckpt") == ["last.ckpt"]
    resumed = load(tmp_path / "cut" / "ckpt" / "last.ckpt")
    expected = load(tmp_path / "ref" / "ckpt" / "last.ckpt")
    assert resumed["global_step"] == expected["global_step"] == 8
    assert_same_weights(resumed, expected)
