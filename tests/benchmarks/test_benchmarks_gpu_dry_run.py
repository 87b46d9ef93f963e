"""``benchmarks/gpu.sh --dry-run`` runs every stage of the GPU benchmark on the CPU."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_script_dry_run(tmp_path: Path) -> None:
    pytest.importorskip("geomloss")
    out = tmp_path / "dry.jsonl"
    start = time.perf_counter()
    result = subprocess.run(
        [str(ROOT / "benchmarks" / "gpu.sh"), "--dry-run", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={"BENCH_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    kinds = {r["bench"] for r in records}
    assert {"env", "train_step", "loss_curve", "inference", "sinkhorn", "train_step_parts"} <= kinds
    assert not [r for r in records if r["bench"] == "error"]
    stages = {r["stage"] for r in records if r["bench"] == "stage_done"}
    assert stages == {"env", "step_parts", "loss_curve", "inference", "sinkhorn", "compiled"}
    parts = {r["setup"]: r for r in records if r["bench"] == "train_step_parts"}
    assert set(parts) == {"quickstart", "paper"}
    for record in parts.values():
        assert record["counts"]["task"]["ops"]["forward"] > 0 and record["top_ops"]
    curve = next(r for r in records if r["bench"] == "loss_curve")
    assert len(curve["fp32"]) == len(curve["bf16"]) == 4
    assert elapsed < 90 or pytest.fail(f"dry run took {elapsed:.0f} s (budget 90 s)")
