"""What ``baryir app`` offers without ``--ckpt``, and what it says of a checkpoint."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest
import torch

from baryir.app import describe_checkpoint, find_checkpoints
from baryir.models import create_model, export_model


def test_checkpoints_under_runs_newest_first(tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    from baryir.commands.export import run as export

    torch.manual_seed(0)
    runs = tmp_path / "runs"
    older = export_model(create_model("baryir-tiny", dim=8), runs / "a" / "w.safetensors")
    os.utime(older, (1, 1))
    export(older, runs / "b" / "hub")  # a Hub folder counts once, as the folder
    (runs / "c").mkdir()
    (runs / "c" / "notes.txt").write_text("not weights")
    found = find_checkpoints(runs)
    assert found == [runs / "b" / "hub", older]
    assert find_checkpoints(tmp_path / "missing") == []
    text = describe_checkpoint(older, create_model("baryir-tiny", dim=8))
    assert text.startswith("**baryir-tiny**, 633,187 parameters")


def test_app_binds_to_this_machine_by_default() -> None:
    from baryir.commands.app import run

    assert inspect.signature(run).parameters["host"].default == "127.0.0.1"
