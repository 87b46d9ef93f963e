"""Every command fails in one clear line, through the real command line (``python -m baryir``).

Each case asserts the exit status (2: bad command line, config or input; 1: the run failed while
working), the first error line, and that no traceback is printed; the checkpoint cases also
assert which step the run resumed from and that the weights are the right ones. The rows of the
table in ``docs/reliability.md`` ("Every command, one error path") are these cases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tiny_run import TINY, assert_same_weights, tiny_fit_args

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "configs" / "quickstart.yaml"


def baryir(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``python -m baryir args`` in ``cwd``; ``(exit status, stderr)``."""
    environment = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "WANDB_MODE": "offline",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")]),
        **(env or {}),
    }
    if ERR_ENV not in (env or {}):
        environment.pop(ERR_ENV, None)
    done = subprocess.run(
        [sys.executable, "-m", "baryir", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.returncode, done.stderr


ERR_ENV = "BARYIR_TRACEBACK"


def error_line(stderr: str) -> str:
    """The ``baryir ...: error: ...`` line, checked to be the only one and traceback-free."""
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def tiny(root: Path, *extra: str, steps: int = 5) -> list[str]:
    """``fit`` of the tiny config into ``root`` (checkpoints in ``root/ckpt``)."""
    return tiny_fit_args(root, steps, *extra)


def load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def cut(path: Path) -> None:
    """Keep the first half of ``path``: a checkpoint cut by a crash or a bad copy."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def cut_copy(trained: Path, root: Path) -> Path:
    """``root/ckpt`` with the trained run's ``last.ckpt`` cut in half and its ``.prev`` older."""
    folder = root / "ckpt"
    folder.mkdir()
    for name in ("last.ckpt", "last.ckpt.prev"):
        (folder / name).write_bytes((trained / "ckpt" / name).read_bytes())
    cut(folder / "last.ckpt")
    os.utime(folder / "last.ckpt.prev", (1, 1))  # older than the cut file
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 6-step tiny run that saved ``last.ckpt`` at steps 2, 4 and 6 (``.prev``: 4)."""
    root = tmp_path_factory.mktemp("trained")
    status, stderr = baryir(
        *tiny(root, "--trainer.callbacks.init_args.every_n_train_steps", "2", steps=6), cwd=root
    )
    assert status == 0, stderr[-3000:]
    assert load(root / "ckpt" / "last.ckpt")["global_step"] == 6
    assert load(root / "ckpt" / "last.ckpt.prev")["global_step"] == 4
    return root


def test_bad_values_fail_before_work_in_one_line(tmp_path: Path) -> None:
    cases = [
        (["--trainer.max_steps=3"], "trainer.max_steps=3 is not longer than model.warmup_steps"),
        (["--data.root", "/nonexistent/data"], "data.root: data folder not found"),
        (["--model.model", "baryir-huge"], "unknown model 'baryir-huge'"),
        (["--model.objective.wb_solver=sinkhornn"], "model.objective.wb_solver"),
        (["--data.mix_by", "shares"], "gives no share to the tasks ['denoise_15', "),
        (["--data.tasks", "[cdd11]"], "data.mix names ['clean', 'denoise_50']"),
    ]
    for extra, expected in cases:
        status, stderr = baryir("fit", "--config", str(QUICKSTART), *extra, cwd=tmp_path)
        line = error_line(stderr)
        assert status == 2 and line.startswith("baryir fit: error:") and expected in line, line
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.ckpt"))


def test_a_removed_config_field_is_an_unknown_one(tmp_path: Path) -> None:
    """``data.proportions`` and ``data.repeats`` (0.1; now ``data.mix`` with ``data.mix_by``,
    CHANGELOG.md) are rejected like any unknown key, on the command line and in a config."""
    status, stderr = baryir(
        "fit", "--config", str(QUICKSTART), "--data.proportions", "{clean: 0.5}", cwd=tmp_path
    )
    assert status == 2 and "unrecognized arguments: --data.proportions" in error_line(stderr)
    old = tmp_path / "old.yaml"
    old.write_text("data:\n  repeats: {derain: 2}\n")
    status, stderr = baryir("fit", "--config", str(QUICKSTART), "--config", str(old), cwd=tmp_path)
    assert status == 2 and "does not accept option 'data.repeats" in error_line(stderr)


def test_checkpoint_paths_that_cannot_work(trained: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.ckpt").write_text("not a checkpoint\n")
    status, stderr = baryir(*tiny(tmp_path, "--ckpt_path", "notes.ckpt"), cwd=tmp_path)
    assert status == 2 and "notes.ckpt: not a torch checkpoint" in error_line(stderr)
    status, stderr = baryir(
        "test", "--config", str(TINY), "--ckpt_path", "nothere.ckpt", cwd=tmp_path
    )
    assert status == 2 and "checkpoint not found: nothere.ckpt" in error_line(stderr)
    status, stderr = baryir(*tiny(tmp_path / "empty", "--ckpt_path", "last"), cwd=tmp_path)
    line = error_line(stderr)
    assert status == 2 and "--ckpt_path last: no checkpoint in" in line
    assert "drop --ckpt_path to start a new run" in line


def test_damaged_explicit_checkpoint_names_the_newest_good_one(
    trained: Path, tmp_path: Path
) -> None:
    folder = cut_copy(trained, tmp_path)
    status, stderr = baryir(
        *tiny(tmp_path, "--ckpt_path", str(folder / "last.ckpt"), steps=8), cwd=tmp_path
    )
    line = error_line(stderr)
    assert status == 2 and "failed finding central directory (a damaged or cut file)" in line
    assert f"the newest one that loads is {folder / 'last.ckpt.prev'}" in line


def test_last_skips_a_cut_checkpoint_and_resumes_from_the_previous(
    trained: Path, tmp_path: Path
) -> None:
    folder = cut_copy(trained, tmp_path)
    every = ["--trainer.callbacks.init_args.every_n_train_steps", "2"]
    status, stderr = baryir(*tiny(tmp_path, *every, "--ckpt_path", "last", steps=6), cwd=tmp_path)
    assert status == 0, stderr[-3000:]
    assert sorted(p.name for p in folder.glob("*.ckpt")) == ["last.ckpt"]  # written back
    assert f"--ckpt_path last: skipped {folder / 'last.ckpt'}: cannot read checkpoint" in stderr
    assert f"resuming from {folder / 'last.ckpt.prev'} (step 4)" in stderr
    # two more steps from step 4 give the uninterrupted run's step-6 weights
    assert_same_weights(load(folder / "last.ckpt"), load(trained / "ckpt" / "last.ckpt"))


def test_a_second_fit_into_the_same_folder_refuses_or_starts_over(
    trained: Path, tmp_path: Path
) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "last.ckpt").write_bytes((trained / "ckpt" / "last.ckpt").read_bytes())
    status, stderr = baryir(*tiny(tmp_path), cwd=tmp_path)
    line = error_line(stderr)
    assert status == 2 and "last.ckpt exists from an earlier run in this folder" in line
    assert "--ckpt_path last" in line and "--fresh true" in line
    status, stderr = baryir(*tiny(tmp_path, "--fresh", "true", steps=3), cwd=tmp_path)
    assert status == 0, stderr[-3000:]
    assert "--fresh: starting over" in stderr
    assert sorted(p.name for p in (tmp_path / "ckpt").glob("*.ckpt")) == ["last.ckpt"]
    assert load(tmp_path / "ckpt" / "last.ckpt")["global_step"] == 3  # the new run's


def test_full_disk_while_saving_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    plugin = "--trainer.plugins=tiny_run.FullDiskCheckpointIO"
    every = ["--trainer.callbacks.init_args.every_n_train_steps", "2"]
    status, stderr = baryir(*tiny(tmp_path, plugin, *every, steps=6), cwd=tmp_path)
    lines = [line for line in stderr.splitlines() if line.startswith("baryir fit:")]
    assert status == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert "cannot save checkpoint" in lines[0] and "the previous one is intact" in lines[0]
    assert "the disk is full" in lines[1]
    assert load(tmp_path / "ckpt" / "last.ckpt")["global_step"] == 2
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["last.ckpt", "last.ckpt.prev"]


def test_full_disk_on_a_real_small_filesystem(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        every = ["--trainer.callbacks.init_args.every_n_train_steps", "2"]
        status, stderr = baryir(
            *tiny(tmp_path, *every, "--trainer.callbacks.init_args.dirpath", str(mount), steps=6),
            cwd=tmp_path,
        )
        assert status == 1 and "No space left on device" in error_line(stderr)
        assert load(mount / "last.ckpt")["global_step"] == 2
        assert not [p for p in mount.iterdir() if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_test_command_without_test_sets(trained: Path, tmp_path: Path) -> None:
    ckpt = str(trained / "ckpt" / "last.ckpt")
    empty = tmp_path / "data"
    empty.mkdir()
    args = ["test", "--config", str(REPO / "configs" / "baryir-3d.yaml"), "--ckpt_path", ckpt]
    status, stderr = baryir(*args, "--data.root", str(empty), cwd=tmp_path)
    assert status == 2 and f"no test set found under {empty}" in error_line(stderr)
    status, stderr = baryir(
        *args, "--data.root", str(empty), "--data.test_sets", "[GoPro]", cwd=tmp_path
    )
    assert status == 2 and "test set GoPro not found under" in error_line(stderr)


def test_restore_output_and_device(trained: Path, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(photo)
    (tmp_path / "outfile").write_text("x")
    ckpt = str(trained / "ckpt" / "last.ckpt")
    status, stderr = baryir(
        "restore", str(photo), "--ckpt", ckpt, "--output", "outfile", cwd=tmp_path
    )
    assert status == 2 and "--output outfile is a file: give a folder" in error_line(stderr)
    if not torch.cuda.is_available():
        status, stderr = baryir(
            "restore", str(photo), "--ckpt", ckpt, "--output", "o", "--device", "cuda", cwd=tmp_path
        )
        assert status == 2 and "--device cuda: no CUDA GPU here" in error_line(stderr)


def test_traceback_on_request(tmp_path: Path) -> None:
    status, stderr = baryir(
        "fit", "--config", str(QUICKSTART), "--model.model", "x", cwd=tmp_path, env={ERR_ENV: "1"}
    )
    assert status == 2 and "Traceback" in stderr and "unknown model 'x'" in stderr


def test_bugs_keep_their_traceback() -> None:
    from baryir.errors import exit_status, is_user_error

    assert not is_user_error(TypeError("a bug")) and not is_user_error(KeyError("k"))
    assert is_user_error(FileNotFoundError("x")) and exit_status(FileNotFoundError("x")) == 2
    assert exit_status(OSError(28, "No space left on device")) == 1
    assert exit_status(torch.OutOfMemoryError("oom")) == 1


def test_every_help_says_how_to_see_the_traceback(tmp_path: Path) -> None:
    from baryir.cli import COMMANDS

    for command in [*COMMANDS, "fit", "test"]:
        done = subprocess.run(
            [sys.executable, "-m", "baryir", command, "--help"],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and "BARYIR_TRACEBACK=1" in done.stdout, command
