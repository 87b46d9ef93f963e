"""The GPU profile's code path on the CPU: the arms of a seed train side by side, one ``baryir
fit`` process each, and a restarted study reuses them without starting a process."""

from __future__ import annotations

import copy
import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from baryir.study.config import BudgetCurve, load_study_config
from baryir.study.orchestration import run_study
from baryir.study.training import side_by_side_env

REPO = Path(__file__).resolve().parents[2]
GPU = REPO / "configs" / "study" / "generalization-gpu.yaml"
DOSE_GPU = REPO / "configs" / "study" / "dose-response-gpu.yaml"
ARMS = ("none", "sinkhorn", "potentials")
DOSES = ("sinkhorn-share-1", "sinkhorn-share-10", "sinkhorn-share-30")


def _dry_run_config(tmp_path: Path, profile: Path = GPU, arms: tuple[str, ...] = ARMS):
    """A GPU profile made CPU-sized: 2 steps of a dim-8 network, one image a row."""
    study = load_study_config(profile)
    assert study.side_by_side and study.arms == arms
    fit = copy.deepcopy(study.fit)
    fit["trainer"]["accelerator"] = "cpu"
    fit["trainer"]["log_every_n_steps"] = 1
    fit["model"]["model_args"] = {"dim": 8}
    fit["model"]["objective"]["potentials_patch_size"] = 32
    fit["model"]["warmup_steps"] = 0
    fit["data"].update(patch_size=32, batch_size=6, num_workers=1, pin_memory=False)
    evaluation = replace(
        study.evaluation,
        max_images=1,
        crop=64,
        device="cpu",
        in_distribution=study.evaluation.in_distribution[:2],
        out_of_distribution=study.evaluation.out_of_distribution[:1],
        unseen_kinds=study.evaluation.unseen_kinds[:1],
        do_no_harm=study.evaluation.do_no_harm[:1],
    )
    return study.with_overrides(
        steps=2,
        seeds=(0,),
        fit=fit,
        evaluation=evaluation,
        budget_curve=BudgetCurve(every=1),
        bootstrap=200,
        output=str(tmp_path / "report"),
        work_dir=str(tmp_path / "runs"),
    )


@pytest.mark.parametrize(("profile", "arms"), [(GPU, ARMS), (DOSE_GPU, ARMS + DOSES)])
def test_gpu_profile_trains_arms_side_by_side_and_reuses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: Path, arms: tuple[str, ...]
) -> None:
    from conftest import shared_data_dir

    root = shared_data_dir()
    if not (root / "train" / "CBSD432").is_dir() or not (root / "Rain100H").is_dir():
        pytest.skip(f"shared data (train/CBSD432, Rain100H) not found at {root}")
    monkeypatch.setenv("BARYIR_DATA", str(root))
    monkeypatch.chdir(REPO)
    study = _dry_run_config(tmp_path, profile, arms)

    def in_process(path: Path) -> None:
        raise AssertionError(f"side by side, no run trains in this process ({path})")

    files = run_study(study, in_process, "dry run", fresh=False)
    runs = tmp_path / "runs"
    for arm in arms:
        record = json.loads((runs / f"{arm}-seed0" / "run.json").read_text())
        assert record["cpu_s"] > 0 and record["train_s"] > 0
        assert "max_steps" in (runs / f"{arm}-seed0" / "fit.yaml").read_text()
    timing = list(csv.DictReader(files["timing"].open(encoding="utf-8")))
    assert {row["arm"] for row in timing} == set(arms)
    assert all(row["reused"] == "False" for row in timing)
    groups = {row["group"] for row in csv.DictReader(files["csv"].open(encoding="utf-8"))}
    assert groups == {"id", "ood", "kinds", "harm"}

    records = {p: p.stat().st_mtime_ns for p in runs.glob("*/run.json")}
    checkpoints = {p: p.stat().st_mtime_ns for p in runs.glob("*/checkpoints/last.ckpt")}
    assert len(records) == len(checkpoints) == len(arms)
    if profile == DOSE_GPU:  # the shares measured at step 0 of every run, in the dose table
        dose = list(csv.DictReader(files["dose"].open(encoding="utf-8")))
        assert [row["arm"] for row in dose] == list(arms[1:])
        assert all(0 < float(row["share_first"]) < 1 for row in dose)
    files = run_study(study, in_process, "dry run", fresh=False)
    timing = list(csv.DictReader(files["timing"].open(encoding="utf-8")))
    assert all(row["reused"] == "True" for row in timing)
    assert {p: p.stat().st_mtime_ns for p in records} == records
    assert {p: p.stat().st_mtime_ns for p in checkpoints} == checkpoints


@pytest.mark.parametrize(
    ("accelerator", "processes", "threads"),
    [("cpu", 16, "1"), ("cpu", 3, "2"), ("cpu", 1, "8"), ("auto", 2, "4")],
)
def test_side_by_side_cpu_processes_share_the_cores(
    monkeypatch: pytest.MonkeyPatch, accelerator: str, processes: int, threads: str
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    fit = {"trainer": {"accelerator": accelerator}}
    assert side_by_side_env(fit, processes)["OMP_NUM_THREADS"] == threads


def test_side_by_side_keeps_the_users_threads_and_leaves_gpus_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert side_by_side_env({"trainer": {"accelerator": "cpu"}}, 3)["OMP_NUM_THREADS"] == "5"
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert "OMP_NUM_THREADS" not in side_by_side_env({"trainer": {"accelerator": "gpu"}}, 3)
