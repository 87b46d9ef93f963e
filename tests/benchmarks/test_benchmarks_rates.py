"""Figures as a share of the machine: FLOP counts, matrix rates, and ``run_all`` passing them on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from tests.benchmarks.test_benchmarks_records import benchmarks  # noqa: F401 (fixture)


def test_flops_of_a_convolution_and_its_backward(
    benchmarks: tuple[ModuleType, ModuleType],  # noqa: F811
) -> None:
    common, _ = benchmarks

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, kernel_size=3, padding=1, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x)

    # a 3x3 convolution 3 -> 3 channels: 2 * 27 multiply-adds per output value, 3 * 20 * 30
    # output values; its backward computes the weight's gradient (as many again) and not the
    # input's (the image needs none)
    forward = 2 * 27 * 3 * 20 * 30 / 1e9
    assert common.network_gflop(Net(), (1, 3, 20, 30)) == pytest.approx(forward)
    assert common.network_gflop(Net(), (1, 3, 20, 30), backward=True) == pytest.approx(2 * forward)


def test_rates_come_from_the_environment_and_give_the_share(
    benchmarks: tuple[ModuleType, ModuleType],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    common, _ = benchmarks
    common.matmul_rates.cache_clear()
    monkeypatch.setenv(common.RATES_ENV, json.dumps({"fp32": 200.0, "bf16": 800.0}))
    fields = common.rate_fields(gflop=100.0, seconds=2.0, precision="bf16")
    assert fields == {
        "gflop": 100.0,
        "gflop_per_s": 50.0,
        "matmul_gflop_per_s": 800.0,
        "roofline_share": 0.0625,
    }
    common.matmul_rates.cache_clear()


def test_run_all_measures_the_rates_first_and_passes_them_on(
    benchmarks: tuple[ModuleType, ModuleType],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    common, run_all = benchmarks
    monkeypatch.delenv(common.RATES_ENV, raising=False)
    seen: list[tuple[str, str | None]] = []

    def fake_run(argv: list[str], env: dict[str, str], **_: Any) -> subprocess.CompletedProcess:
        name = Path(argv[1]).stem
        seen.append((name, env.get(common.RATES_ENV)))
        record = (
            {"bench": "matmul_rates", "fp32": 1.5, "bf16": 6.0}
            if name == "bench_machine"
            else {"bench": name}
        )
        return subprocess.CompletedProcess(argv, 0, stdout=json.dumps(record) + "\n", stderr="")

    monkeypatch.setattr(run_all.subprocess, "run", fake_run)
    assert run_all.main(["--quick", "--out", str(tmp_path / "r.jsonl")]) == 0
    assert seen[0] == ("bench_machine", None)
    assert {rates for _, rates in seen[1:]} == {json.dumps({"fp32": 1.5, "bf16": 6.0})}
