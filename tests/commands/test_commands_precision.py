"""Which precision the commands run in: auto for restore, fp32 for the evaluation protocol."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch
from PIL import Image

import baryir.inference.precision as precision
from baryir.cli import main
from baryir.commands import compare, restore, suite
from baryir.evaluation.report import describe_protocol
from baryir.metrics import EvalProtocol
from baryir.models import create_model, export_model


@pytest.mark.parametrize(("native", "chosen"), [(True, "bf16"), (False, "fp32")])
def test_restore_prints_the_chosen_precision_once(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    native: bool,
    chosen: str,
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: ["avx512_bf16"] if native else ["avx2"])
    torch.manual_seed(0)
    weights = export_model(create_model("restormer-tiny"), tmp_path / "w.safetensors")
    for name in ("a", "b"):
        Image.new("RGB", (24, 16), (90, 120, 150)).save(tmp_path / f"{name}.png")
    argv = ["restore", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--ckpt", str(weights)]
    assert main([*argv, "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if "precision" in line]
    reason = "avx512_bf16" if native else "no amx_bf16 or avx512_bf16"
    assert said == [f"precision: {chosen} (auto: cpu has {reason})"]


def test_protocol_commands_keep_fp32_and_say_so() -> None:
    assert inspect.signature(restore.run).parameters["precision"].default == "auto"
    for command in (suite.run, compare.run):
        assert "precision" not in inspect.signature(command).parameters
    assert describe_protocol(EvalProtocol()).endswith(", network in fp32")
    assert describe_protocol(EvalProtocol(), "bf16-mixed").endswith(", network in bf16-mixed")
