"""Benchmark records name the commit and the run (``benchmarks/common.py``, ``run_all.py``)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from baryir.provenance import git_revision

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, ModuleType]]:
    """``common`` and ``run_all`` as the scripts import them, with fresh caches."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    common = importlib.import_module("common")
    run_all = importlib.import_module("run_all")
    common.run_id.cache_clear()
    yield common, run_all
    common.run_id.cache_clear()


def test_emit_names_commit_and_run(
    benchmarks: tuple[ModuleType, ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    common, _ = benchmarks
    monkeypatch.setenv(common.RUN_ENV, "run-1")
    record = common.emit("probe", size=3)
    assert json.loads(capsys.readouterr().out) == record
    assert record["commit"] == git_revision()[:7] and len(record["commit"]) == 7
    assert (record["bench"], record["run"], record["size"]) == ("probe", "run-1", 3)
    assert {"cpu", "cores", "threads", "torch"} <= set(record["machine"])
    assert common.emit("probe", commit="f891ab9")["commit"] == "f891ab9"


def test_a_script_alone_is_one_run(
    benchmarks: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    common, _ = benchmarks
    monkeypatch.delenv(common.RUN_ENV, raising=False)
    first, second = common.emit("a"), common.emit("b")
    assert first["run"] == second["run"] and first["run"][:2] == "20"


def test_run_all_gives_its_scripts_one_run(
    benchmarks: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    common, run_all = benchmarks
    monkeypatch.setenv(common.RUN_ENV, "outer")
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], env: dict[str, str], **_: Any) -> subprocess.CompletedProcess:
        calls.append((argv, env))
        line = json.dumps({"bench": Path(argv[1]).stem, "run": env[common.RUN_ENV]})
        return subprocess.CompletedProcess(argv, 0, stdout=f"# note\n{line}\n", stderr="")

    monkeypatch.setattr(run_all.subprocess, "run", fake_run)
    out = tmp_path / "results.jsonl"
    assert run_all.main(["--quick", "--out", str(out)]) == 0
    runs = {env[common.RUN_ENV] for _, env in calls}
    assert runs == {"outer"} and len(calls) == len(run_all.plan(True, False))
    assert [json.loads(line)["bench"] for line in out.read_text().splitlines()] == [
        Path(argv[1]).stem for argv, _ in calls
    ]
    calls.clear()
    assert run_all.main(["--out", str(out), "bench_train.py", "--reference", "--quick"]) == 0
    assert [argv[1:] for argv, _ in calls] == [
        [str(ROOT / "benchmarks" / "bench_train.py"), "--reference", "--quick"]
    ]
    assert calls[0][0][0] == sys.executable
