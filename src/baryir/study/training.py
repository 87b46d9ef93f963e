"""A study's training runs: each run's ``baryir fit`` config, then the run, in this process or
side by side with the other arms of its seed.

Runs live in ``work_dir/<arm>-seed<seed>/`` (``fit.yaml``, checkpoints, CSV logs, batch
fingerprints); a run whose ``run.json`` matches its fit config is reused
(:func:`baryir.study.cache.finished_run`) unless ``fresh``.
"""

from __future__ import annotations

import copy
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from baryir.io.atomic import atomic_write_text
from baryir.specs import parse_folder, subset_text
from baryir.study.budget import curve_callback
from baryir.study.cache import finished_run, record_run
from baryir.study.config import ARMS, StudyConfig

__all__ = [
    "FitCommand",
    "RunTiming",
    "fit_config",
    "merged",
    "side_by_side_env",
    "train_folders",
    "train_run",
    "train_side_by_side",
]

FitCommand = Callable[[Path], object]
"""Runs ``baryir fit --config <path>`` (``baryir study`` passes
:func:`baryir.lightning_cli.run_trainer` on ``baryir fit``'s error path)."""


@dataclass(frozen=True)
class RunTiming:
    """Wall time of one run (training through ``baryir fit``, then evaluation)."""

    arm: str
    seed: int
    steps: int
    train_s: float
    eval_s: float
    cpu_s: float
    reused: bool = False


def train_folders(config: StudyConfig, root: Path) -> dict[str, str]:
    """``train_folders`` with paths made absolute under ``root`` (subset and ``spec@`` kept)."""
    resolved = {}
    for degradation_task, value in config.train_folders.items():
        parsed = parse_folder(value)
        degradation, folder, subset = parsed.degradation, parsed.folder, parsed.subset
        folder = folder if folder.is_absolute() else root / folder
        if not folder.is_dir():
            raise FileNotFoundError(
                f"study {config.name}: train folder for {degradation_task} not found: {folder}"
            )
        prefix = f"{degradation}@" if degradation else ""
        resolved[degradation_task] = f"{prefix}{folder}{subset_text(subset) if subset else ''}"
    return resolved


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied key by key, mappings merged recursively."""
    out = dict(base)
    for key, value in overrides.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else copy.deepcopy(value)
    return out


def fit_config(
    config: StudyConfig,
    arm: str,
    seed: int,
    run_dir: Path,
    folders: dict[str, str],
    curve_every: int | None = None,
) -> dict[str, Any]:
    """The ``baryir fit`` config of one run: the shared one plus the run's seed, arm, paths
    (and, with ``curve_every``, the checkpoints of the budget curve).

    The learning-rate warm-up is at most a tenth of the run, so a short run (``--steps 4``, a
    smoke test) keeps the schedule's shape; the studies' own lengths are far above that.
    """
    fit = copy.deepcopy(config.fit)
    fit["seed_everything"] = seed
    trainer = fit.setdefault("trainer", {})
    trainer["max_steps"] = config.steps
    model = fit.setdefault("model", {})
    if "warmup_steps" in model:
        model["warmup_steps"] = min(int(model["warmup_steps"]), config.steps // 10)
    trainer["default_root_dir"] = str(run_dir)
    trainer["logger"] = {
        "class_path": "lightning.pytorch.loggers.CSVLogger",
        "init_args": {"save_dir": str(run_dir), "name": "logs", "version": 0},
    }
    trainer["callbacks"] = [
        *trainer.get("callbacks", []),
        {
            "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
            "init_args": {
                "dirpath": str(run_dir / "checkpoints"),
                "save_last": True,
                "save_top_k": 0,
            },
        },
        {
            "class_path": "baryir.study.run_callback.StudyRunCallback",
            "init_args": {"seed": seed, "fingerprint_path": str(run_dir / "batches.txt")},
        },
    ]
    if curve_every is not None:
        trainer["callbacks"].append(curve_callback(run_dir, curve_every))
    fit["model"] = merged(fit.get("model", {}), ARMS[arm])
    data = fit.setdefault("data", {})
    data["seed"] = seed
    data["folders"] = {**data.get("folders", {}), **folders}
    return fit


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _prepare(fit: dict[str, Any], run_dir: Path) -> Path:
    """Clear the run's old checkpoints and write its ``fit.yaml``; returns that file."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)  # a stale run's, curve included
    config_path = run_dir / "fit.yaml"
    atomic_write_text(config_path, yaml.safe_dump(fit, sort_keys=False))
    return config_path


def train_run(
    fit: dict[str, Any], run_dir: Path, fresh: bool, fit_command: FitCommand
) -> tuple[float, float, bool]:
    """Train one run with ``fit_command`` unless a finished identical one exists.

    Returns:
        ``(wall seconds, CPU seconds, reused)``.
    """
    done = None if fresh else finished_run(fit, run_dir)
    if done is not None:
        return *done, True
    config_path = _prepare(fit, run_dir)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    fit_command(config_path)
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    record_run(fit, run_dir, wall, cpu)
    return wall, cpu, False


def side_by_side_env(fit: dict[str, Any], processes: int) -> dict[str, str]:
    """The environment of one of ``processes`` training processes that run at the same time.

    On a GPU, the parent's. On the CPU, each process gets an equal share of the cores as its
    ``OMP_NUM_THREADS`` (at least 1), unless the user set it: processes that each start one
    thread per core spin against each other and run many times slower than one after another.
    """
    env = dict(os.environ)
    accelerator = str(fit.get("trainer", {}).get("accelerator", "auto"))
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
    if on_cpu and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // processes))
    return env


def train_side_by_side(runs: list[tuple[dict[str, Any], Path]], fresh: bool) -> set[Path]:
    """Train runs at the same time, one ``python -m baryir fit`` process each.

    For one GPU and small models, which leave it mostly idle: the runs of a seed then share it.
    On the CPU, the processes share the cores (:func:`side_by_side_env`): on 2 cores, 2 or 3
    one-thread processes train more steps a second together than one two-thread process.
    Finished identical runs are reused unless ``fresh``. Each process logs to ``fit.log`` in its
    run folder; its wall and CPU seconds (``os.wait4``) go to ``run.json`` as in
    :func:`train_run`.

    Returns:
        the folders of the runs trained now.

    Raises:
        RuntimeError: a run failed (after every process has ended; names its log).
    """
    pending = [(fit, run_dir) for fit, run_dir in runs if fresh or not finished_run(fit, run_dir)]
    started: dict[int, tuple[dict[str, Any], Path, subprocess.Popen, float]] = {}
    for fit, run_dir in pending:
        config_path = _prepare(fit, run_dir)
        with (run_dir / "fit.log").open("w", encoding="utf-8") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "baryir", "fit", "--config", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=side_by_side_env(fit, len(pending)),
            )
        started[process.pid] = (fit, run_dir, process, time.perf_counter())
    failed = []
    while started:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in started:
            continue
        fit, run_dir, process, start = started.pop(pid)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            failed.append(f"{run_dir} (exit {process.returncode}, see {run_dir / 'fit.log'})")
            continue
        record_run(fit, run_dir, time.perf_counter() - start, usage.ru_utime + usage.ru_stime)
    if failed:
        raise RuntimeError(f"side-by-side training failed: {'; '.join(failed)}")
    return {run_dir for _, run_dir in pending}
