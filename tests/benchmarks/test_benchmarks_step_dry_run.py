"""``benchmarks/bench_step.py --dry-run``: step parts counted, the task beside the bare loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_step_benchmark_dry_run() -> None:
    pytest.importorskip("geomloss")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_step.py"), "--dry-run", "--threads", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    steps = {r["setup"]: r for r in records if r["bench"] == "train_step_parts"}
    assert set(steps) == {"quickstart", "paper"}
    quickstart = steps["quickstart"]
    assert (quickstart["wb_solver"], quickstart["num_sources"]) == ("sinkhorn", 4)
    task, bare = quickstart["counts"]["task"], quickstart["counts"]["bare"]
    # the same network: the forward is the same operations in the task and the bare loop
    assert task["ops"]["forward"] == bare["ops"]["forward"] > 0
    assert task["ops"]["objective"] > bare["ops"]["objective"] > 0
    assert {"optimiser", "ema", "logging"} <= set(task["ops"])
    assert "potentials" in steps["paper"]["counts"]["task"]["ops"]
    assert quickstart["task_step_s"] > 0 and quickstart["bare_step_s"] > 0
    sinkhorn = [r for r in records if r["bench"] == "sinkhorn_pooled"]
    assert [r["sources"] for r in sinkhorn] == [4, 6]
