"""Scaling switches from the command line: 2-process CPU DDP, bf16-mixed, torch.compile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from baryir.cli import main

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "conf" / "tiny.yaml"


def tiny_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "fit",
        "--config",
        str(TINY),
        f"--trainer.default_root_dir={tmp_path}",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
        f"--trainer.callbacks.init_args.dirpath={tmp_path / 'checkpoints'}",
        "--trainer.max_steps=2",
        "--trainer.limit_val_batches=0",
        *extra,
    ]


def checkpoint(tmp_path: Path) -> dict:
    return torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)


@pytest.mark.parametrize("solver", [pytest.param("sinkhorn", marks=pytest.mark.slow), "potentials"])
def test_ddp_two_cpu_processes(tmp_path: Path, solver: str) -> None:
    """``python -m baryir fit --trainer.devices 2 --trainer.strategy ddp`` (gloo) exits 0.

    Two fresh processes (about 60-100 s on 2 shared cores): the potentials solver runs by
    default (global-batch all-gather plus the reduced potentials step); sinkhorn is ``slow``.
    """
    args = tiny_args(
        tmp_path,
        "--trainer.accelerator=cpu",
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        f"--model.objective.wb_solver={solver}",
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "baryir", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    state = checkpoint(tmp_path)
    assert state["global_step"] == 2
    has_potentials = any(key.startswith("objective.potentials.") for key in state["state_dict"])
    assert has_potentials == (solver == "potentials")


def test_bf16_mixed_fit(tmp_path: Path) -> None:
    """bf16 autocast on CPU (emulated: about 10 s for 2 steps on an idle 2-core machine)."""
    main(tiny_args(tmp_path, "--trainer.precision=bf16-mixed"))
    state = checkpoint(tmp_path)
    assert state["global_step"] == 2
    assert all(
        torch.isfinite(v).all() for v in state["state_dict"].values() if v.is_floating_point()
    )


def test_compile_fit_matches_eager(tmp_path: Path) -> None:
    """``--model.compile true`` with the ``aot_eager`` backend: dynamo captures the network's
    forward and backward inside the real training step (manual optimisation, full objective), and
    two steps land on the same weights as the eager fit. Inductor's kernels are the only part not
    exercised (the slow test below)."""
    torch._dynamo.reset()
    main(tiny_args(tmp_path / "eager", "--seed_everything=3"))
    graphs_before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    main(
        tiny_args(
            tmp_path / "compiled",
            "--seed_everything=3",
            "--model.compile=true",
            "--model.compile_backend=aot_eager",
        )
    )
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > graphs_before
    eager, compiled = checkpoint(tmp_path / "eager"), checkpoint(tmp_path / "compiled")
    assert compiled["hyper_parameters"]["compile_backend"] == "aot_eager"
    assert eager["state_dict"].keys() == compiled["state_dict"].keys()
    moved = 0
    for key, value in eager["state_dict"].items():
        if value.is_floating_point():
            torch.testing.assert_close(compiled["state_dict"][key], value, rtol=1e-4, atol=1e-5)
            moved += int(key.startswith("model."))
    assert moved > 0
    torch._dynamo.reset()


@pytest.mark.slow
def test_compile_fit(tmp_path: Path) -> None:
    """``--model.compile true``: compiled in place, so checkpoint keys keep their names.

    Inductor builds C++ kernels with gcc on CPU: 7 minutes on an idle 2-core machine: ``slow``
    (the ``aot_eager`` test above covers the tracing in CI).
    """
    main(tiny_args(tmp_path, "--model.compile=true"))
    state = checkpoint(tmp_path)
    assert state["global_step"] == 2 and state["hyper_parameters"]["compile"] is True
    assert not any("_orig_mod" in key for key in state["state_dict"])
