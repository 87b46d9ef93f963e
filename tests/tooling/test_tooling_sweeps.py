"""Every W&B sweep in configs/sweeps runs: draws from its space, built into W&B's command line."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

from baryir.cli import main

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "conf" / "tiny.yaml"
SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))
DRAWS = 2


def draw(spec: dict[str, Any], rng: random.Random) -> Any:
    """One value of a W&B sweep parameter (the distributions these sweeps use)."""
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        return rng.choice(spec["values"])
    kind = spec.get("distribution", "uniform")
    low, high = spec["min"], spec["max"]
    if kind == "int_uniform":
        return rng.randint(low, high)
    if kind == "uniform":
        return rng.uniform(low, high)
    if kind == "q_uniform":
        return round(rng.uniform(low, high) / spec.get("q", 1.0)) * spec.get("q", 1.0)
    if kind == "log_uniform_values":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    raise ValueError(f"draw: distribution {kind!r} is not implemented in this test")


def agent_command(sweep: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """The command line W&B's agent runs for ``params`` (wandb/wandb_agent.py, non-Windows)."""
    command = create_sweep_command(list(sweep["command"]))
    macros = create_sweep_command_args({"args": {k: {"value": v} for k, v in params.items()}})
    macros["env"] = ["/usr/bin/env"]
    argv: list[str] = []
    for chunk in map(str, command):
        if chunk.startswith("${") and chunk.endswith("}"):
            argv += macros[chunk[2:-1]]
        else:
            argv.append(chunk)
    return argv


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_sweep_file_is_valid(path: Path) -> None:
    sweep = yaml.safe_load(path.read_text())
    assert sweep["method"] in {"random", "bayes", "grid"}
    assert sweep["metric"] == {"name": "val/psnr", "goal": "maximize"}
    assert "${args}" in sweep["command"]
    for spec in sweep["parameters"].values():
        draw(spec, random.Random(0))


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_sweep_draws_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Swept keys exist and reach the run: the saved config holds exactly the drawn values.

    ``tests/conf/tiny.yaml`` goes right after the sweep's main config (it shrinks the model and
    data), so the sweep's own logger config and the swept values still apply; test-only
    settings (2 steps, output folders) come last. W&B itself is disabled here (its logging is
    tested in test_tooling_loggers.py).
    """
    import wandb

    monkeypatch.setenv("WANDB_MODE", "disabled")
    sweep = yaml.safe_load(path.read_text())
    rng = random.Random(path.stem)
    for i in range(DRAWS):
        params = {name: draw(spec, rng) for name, spec in sweep["parameters"].items()}
        argv = agent_command(sweep, params)
        assert argv[:3] == ["/usr/bin/env", "baryir", "fit"], argv
        args = argv[2:]
        first_config = args.index("--config") + 1
        args[first_config] = str(REPO / args[first_config])
        args.insert(first_config + 1, "--config")
        args.insert(first_config + 2, str(TINY))
        args = [str(REPO / a) if a.startswith("configs/") else a for a in args]
        out = tmp_path / str(i)
        args += [
            "--trainer.max_steps=2",
            "--trainer.val_check_interval=2",
            f"--trainer.default_root_dir={out}",
            f"--trainer.logger.init_args.save_dir={out}",
            "--data.root=null",
            "--data.num_workers=0",
            "--model.objective.potentials_pooling=adaptive",
        ]
        try:
            main(args)
        finally:
            wandb.finish()
        config = yaml.safe_load((out / "config.yaml").read_text())
        for name, value in params.items():
            node = config
            for key in name.split("."):
                node = node[key]
            assert node == pytest.approx(value) if isinstance(value, float) else node == value
        assert list(out.rglob("last.ckpt")), f"no checkpoint for {params}"
