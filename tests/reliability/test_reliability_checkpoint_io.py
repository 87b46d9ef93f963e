"""Checkpoint writes that cannot be left half-done, loads that cannot run code."""

from __future__ import annotations

import ast
import multiprocessing
import os
import pathlib
from pathlib import Path

import pytest
import torch

from baryir.io.checkpoint import UnsafeCheckpointError, atomic_save
from baryir.io.checkpoint_io import AtomicCheckpointIO

SRC = Path(__file__).resolve().parents[2] / "src"


class _ExplodingPickle:
    """Raises while being pickled (a disk-full or serialisation error halfway through)."""

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        raise OSError("no space left on device (simulated)")


class _DieWhilePickled:
    """Kills the process outright while being pickled (like SIGKILL mid-write)."""

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        os._exit(9)


class _Payload:
    """Unpickling this would create a marker file (stands in for ``os.system``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _big_then(tail: object) -> dict:
    return {"state_dict": {"w": torch.randn(256, 1024)}, "tail": tail}


def test_error_mid_write_keeps_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"global_step": 3, "w": torch.ones(2)}, path)
    with pytest.raises(OSError, match="simulated"):
        io.save_checkpoint(_big_then(_ExplodingPickle()), path)
    assert io.load_checkpoint(path)["global_step"] == 3
    # temp file removed; the previous last kept beside it (a hard link to the same file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt", "last.ckpt.prev"]


def _save_and_die(path: str) -> None:
    atomic_save(_big_then(_DieWhilePickled()), path)


def test_process_killed_mid_write_keeps_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    atomic_save({"global_step": 6}, path)
    child = multiprocessing.get_context("fork").Process(target=_save_and_die, args=(str(path),))
    child.start()
    child.join(60)
    assert child.exitcode == 9
    assert AtomicCheckpointIO().load_checkpoint(path)["global_step"] == 6
    # The dead writer's partial temporary file is left beside it, never under the real name.
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "last.ckpt"]
    assert all(name.startswith(".last.ckpt.") and name.endswith(".tmp") for name in leftovers)


def test_checkpoint_io_refuses_code_and_ignores_weights_only_false(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.ones(1)}, "x": _Payload(marker)}, path)
    with pytest.raises(UnsafeCheckpointError, match="needs code"):
        AtomicCheckpointIO().load_checkpoint(path, weights_only=False)
    assert not marker.exists()


def test_checkpoint_io_rejects_storage_options(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="storage_options"):
        AtomicCheckpointIO().save_checkpoint({}, tmp_path / "x.ckpt", storage_options={"a": 1})


def _unsafe_torch_loads(path: Path) -> list[str]:
    """``torch.load(...)`` calls in ``path`` without a literal ``weights_only=True``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "load"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "torch"
        ):
            continue
        safe = any(
            kw.arg == "weights_only"
            and isinstance(kw.value, ast.Constant)
            and kw.value.value is True
            for kw in node.keywords
        )
        if not safe:
            found.append(f"{path}:{node.lineno}")
    return found


def test_every_torch_load_in_src_is_weights_only() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert files
    unsafe = [hit for path in files for hit in _unsafe_torch_loads(path)]
    assert not unsafe, f"torch.load without weights_only=True: {unsafe}"
    # Nothing calls pickle or torch.load through another name either.
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "pickle.load" not in text and "weights_only=False" not in text, path


def test_grep_check_catches_an_unsafe_load(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        "import torch\nx = torch.load('a.pt')\ny = torch.load('b', weights_only=True)\n"
    )
    assert _unsafe_torch_loads(sample) == [f"{sample}:2"]
