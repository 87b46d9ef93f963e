"""Run a study: for every seed and arm, train with ``baryir fit``, then score every row.

Built on the public API: training through a ``fit`` callable that runs ``baryir fit --config
FILE`` (the command passes :func:`baryir.cli.main`), scoring through
:func:`baryir.evaluation.runner.evaluate` (``baryir.evaluate``) on ``build_test_set`` rows, keeping
every image's PSNR for :mod:`baryir.study.stats`, then measuring the mechanism on the
in-distribution rows (:mod:`baryir.study.mechanism`) and, with ``budget_curve``, scoring the
reference arm's first run along its training (:mod:`baryir.study.budget`).

Runs live in ``work_dir/<arm>-seed<seed>/`` (``fit.yaml``, checkpoints, CSV logs, batch
fingerprints). A run whose ``run.json`` matches its fit config is reused, and so are its
evaluation (``scores-<digest>.json``), mechanism (``mechanism-<digest>.json``) and curve
(``curve-<digest>-step<N>.json``), unless ``fresh``: an interrupted study picks up where it
stopped.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from lightning.pytorch import Callback, LightningModule, Trainer

from baryir.data.datasets.subset import split_folder_override, subset_label
from baryir.data.datasets.testsets import build_test_set, default_data_root
from baryir.evaluation.runner import ImageScores, evaluate
from baryir.io.atomic import atomic_write_text
from baryir.metrics import EvalProtocol
from baryir.study.budget import CurvePoint, curve_callback, curve_checkpoints, curve_points
from baryir.study.config import ARMS, StudyConfig
from baryir.study.dose import ShareTrace, read_shares
from baryir.study.mechanism import (
    MechanismSummary,
    measure_run,
    mechanism_datasets,
    summarize_mechanism,
)
from baryir.study.report import RunTiming, StudyMeta, write_report
from baryir.study.stats import ImageScore, summarize

__all__ = ["FitCommand", "StudyRunCallback", "run_study"]

FitCommand = Callable[[Path], object]
"""Runs ``baryir fit --config <path>`` (e.g. ``lambda path: baryir.cli.main(["fit", ...])``)."""


class StudyRunCallback(Callback):
    """Same batches in every arm: re-seed when training starts, fingerprint every batch.

    Before training starts the arms differ in how much randomness they used (the potentials'
    initialisation), so the random generators are re-seeded with ``seed`` at ``on_fit_start``,
    just before the fit loop makes the training DataLoader iterator (which draws its workers'
    seeds from the global generator). With ``num_workers >= 1`` and persistent workers the
    crops, flips and noise then come from the workers alone and are identical across arms; the
    batch order comes from the data module's seeded sampler. Each batch's fingerprint (sum of
    the inputs and the file names) is written to ``fingerprint_path`` at the end, so the study
    can check it.

    Args:
        seed: the run's seed.
        fingerprint_path: text file for the fingerprints (None: not written).
    """

    def __init__(self, seed: int, fingerprint_path: str | None = None) -> None:
        self.seed = seed
        self.fingerprint_path = fingerprint_path
        self.fingerprints: list[str] = []

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)

    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        total = float(batch["input"].double().sum())
        self.fingerprints.append(f"{total:.6f} {','.join(batch['name'])}")

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.fingerprint_path:
            atomic_write_text(self.fingerprint_path, "\n".join(self.fingerprints) + "\n")


def config_digest(config: dict[str, Any]) -> str:
    """Stable short hash of a JSON-able mapping (to reuse finished runs)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def data_root(config: StudyConfig) -> Path:
    """The study's data root (``data_root`` or the shared data); raises if it is missing."""
    root = Path(config.data_root) if config.data_root else default_data_root()
    if root is None or not root.is_dir():
        raise FileNotFoundError(
            f"study {config.name}: data root not found ({root}); set data_root in the study "
            "file or BARYIR_SHARED_DATA"
        )
    return root


def train_folders(config: StudyConfig, root: Path) -> dict[str, str]:
    """``train_folders`` with paths made absolute under ``root`` (subset and ``spec@`` kept)."""
    resolved = {}
    for task, value in config.train_folders.items():
        degradation, folder, subset = split_folder_override(value)
        folder = folder if folder.is_absolute() else root / folder
        if not folder.is_dir():
            raise FileNotFoundError(
                f"study {config.name}: train folder for {task} not found: {folder}"
            )
        prefix = f"{degradation}@" if degradation else ""
        resolved[task] = f"{prefix}{folder}{subset_label(subset) if subset else ''}"
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
    (and, with ``curve_every``, the checkpoints of the budget curve)."""
    fit = copy.deepcopy(config.fit)
    fit["seed_everything"] = seed
    trainer = fit.setdefault("trainer", {})
    trainer["max_steps"] = config.steps
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
            "class_path": "baryir.study.runner.StudyRunCallback",
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


def _finished(fit: dict[str, Any], run_dir: Path) -> tuple[float, float] | None:
    """``(wall, CPU seconds)`` of a finished run trained from ``fit``, else None."""
    record = run_dir / "run.json"
    if record.is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file():
        done = json.loads(record.read_text(encoding="utf-8"))
        if done.get("digest") == config_digest(fit):
            return float(done["train_s"]), float(done["cpu_s"])
    return None


def _prepare(fit: dict[str, Any], run_dir: Path) -> Path:
    """Clear the run's old checkpoints and write its ``fit.yaml``; returns that file."""
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)  # a stale run's, curve included
    config_path = run_dir / "fit.yaml"
    atomic_write_text(config_path, yaml.safe_dump(fit, sort_keys=False))
    return config_path


def _record(fit: dict[str, Any], run_dir: Path, wall: float, cpu: float) -> None:
    """Mark the run finished (``run.json``); raises if it wrote no checkpoint."""
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        raise RuntimeError(f"baryir fit wrote no checkpoint at {checkpoint}")
    record = {"digest": config_digest(fit), "train_s": wall, "cpu_s": cpu}
    atomic_write_text(run_dir / "run.json", json.dumps(record, indent=2))


def train_run(
    fit: dict[str, Any], run_dir: Path, fresh: bool, fit_command: FitCommand
) -> tuple[float, float, bool]:
    """Train one run with ``fit_command`` unless a finished identical one exists.

    Returns:
        ``(wall seconds, CPU seconds, reused)``.
    """
    done = None if fresh else _finished(fit, run_dir)
    if done is not None:
        return *done, True
    config_path = _prepare(fit, run_dir)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    fit_command(config_path)
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    _record(fit, run_dir, wall, cpu)
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
    pending = [(fit, run_dir) for fit, run_dir in runs if fresh or not _finished(fit, run_dir)]
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
        _record(fit, run_dir, time.perf_counter() - start, usage.ru_utime + usage.ru_stime)
    if failed:
        raise RuntimeError(f"side-by-side training failed: {'; '.join(failed)}")
    return {run_dir for _, run_dir in pending}


def eval_device(config: StudyConfig) -> str:
    """``evaluation.device`` with ``auto`` resolved (CUDA when available)."""
    device = config.evaluation.device
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def evaluate_run(
    config: StudyConfig,
    checkpoint: Path,
    datasets: list[tuple[str, Any]],
    arm: str,
    seed: int,
    cache: Path | None,
) -> tuple[list[ImageScore], dict[tuple[str, int, str], float], float]:
    """Score one checkpoint on every row; per-image PSNRs, row SSIMs and the wall seconds."""
    if cache is not None and cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        scores = [ImageScore(**s) for s in saved["scores"]]
        ssim = {(arm, seed, row): value for row, value in saved["ssim"].items()}
        return scores, ssim, float(saved["eval_s"])
    protocol = EvalProtocol()
    device = eval_device(config)
    group_of = {dataset.label: group for group, dataset in datasets}
    recorded = ImageScores()
    start = time.perf_counter()
    rows = evaluate(
        checkpoint,
        [dataset for _, dataset in datasets],
        protocol=protocol,
        device=device,
        on_image=recorded,
    )
    elapsed = time.perf_counter() - start
    scores = [
        ImageScore(arm, seed, label, group_of[label], name, psnr, input_psnr)
        for label, name, input_psnr, psnr in recorded.rows
    ]
    ssim = {(arm, seed, row): values["ssim"] for row, values in rows.items()}
    if cache is not None:
        saved = {
            "scores": [asdict(s) for s in scores],
            "ssim": {row: values["ssim"] for row, values in rows.items()},
            "eval_s": elapsed,
        }
        atomic_write_text(cache, json.dumps(saved))
    return scores, ssim, elapsed


def evaluate_curve(
    config: StudyConfig,
    run_dir: Path,
    rows: list[tuple[str, Any]],
    arm: str,
    seed: int,
    final_scores: list[ImageScore],
    cache_prefix: str,
    fresh: bool,
) -> list[CurvePoint]:
    """Score the budget-curve checkpoints of a run on the in-distribution and do-no-harm rows
    (cached in ``<cache_prefix>-step<N>.json``); the final step is ``final_scores``."""
    curve_rows = [(group, dataset) for group, dataset in rows if group in ("id", "harm")]
    labels = {dataset.label for _, dataset in curve_rows}
    by_step = {config.steps: [s for s in final_scores if s.row in labels]}
    for step, checkpoint in curve_checkpoints(run_dir, config.steps):
        cache = run_dir / f"{cache_prefix}-step{step}.json"
        if fresh:
            cache.unlink(missing_ok=True)
        by_step[step] = evaluate_run(config, checkpoint, curve_rows, arm, seed, cache)[0]
    return curve_points(by_step)


def build_rows(config: StudyConfig, root: Path) -> list[tuple[str, Any]]:
    """``(group, dataset)`` of every evaluation row, labelled by its spec."""
    evaluation = config.evaluation
    rows = []
    for group, specs in (
        ("id", evaluation.in_distribution),
        ("ood", evaluation.out_of_distribution),
        ("kinds", evaluation.unseen_kinds),
        ("harm", evaluation.do_no_harm),
    ):
        for spec in specs:
            dataset = build_test_set(
                spec, root, evaluation.seed, evaluation.max_images, evaluation.crop
            )
            dataset.label = spec
            rows.append((group, dataset))
    return rows


def git_revision() -> str:
    """``git rev-parse HEAD`` (read only), marked when tracked files have changes."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} (with uncommitted changes)" if dirty else head


def machine_description() -> str:
    """CPU model and count, GPU, OS, Python/torch versions, load average."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, {gpu}; {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average (1/5/15 min) {load}"
    )


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _describe(config: StudyConfig, root: Path) -> tuple[str, str, str]:
    model = config.fit.get("model", {})
    data = config.fit.get("data", {})
    budget = (
        f"{config.steps} steps per run, batch {data.get('batch_size', '?')} of "
        f"{data.get('patch_size', '?')}x{data.get('patch_size', '?')} crops, "
        f"model `{model.get('model', '?')}` {model.get('model_args') or ''}, seeds "
        f"{list(config.seeds)}, arms {list(config.arms)} (reference `{config.reference}`)"
    )
    train = ", ".join(f"{task}: `{value}`" for task, value in config.train_folders.items())
    train = f"tasks {data.get('tasks')}; {train} (under `{root}`); repeats {data.get('repeats')}"
    evaluation = config.evaluation
    images = evaluation.max_images or "all"
    crop = f"central {evaluation.crop} px crops" if evaluation.crop else "whole images"
    described = (
        f"first {images} images of each row, {crop}, degradations seeded by "
        f"(seed {evaluation.seed}, spec, file name); PSNR on RGB, 8-bit, the paper's protocol"
    )
    return budget, train, described


def identical_batches(config: StudyConfig, work_dir: Path) -> str:
    """Whether every arm of each seed saw the same training batches (fingerprint files)."""
    mismatched, missing = [], 0
    for seed in config.seeds:
        texts = {}
        for arm in config.arms:
            path = work_dir / f"{arm}-seed{seed}" / "batches.txt"
            if path.is_file():
                texts[arm] = path.read_text(encoding="utf-8")
            else:
                missing += 1
        if len(set(texts.values())) > 1:
            mismatched.append(seed)
    if mismatched:
        return f"no: the arms' batches differ for seeds {mismatched}"
    note = f" ({missing} runs without a fingerprint file)" if missing else ""
    return f"yes: the arms of each seed saw identical batches (inputs and file names){note}"


def run_study(
    config: StudyConfig, fit_command: FitCommand, command: str, fresh: bool = False
) -> dict[str, Path]:
    """Train, evaluate and report a study; returns the written files by kind.

    Args:
        config: the study.
        fit_command: trains one run from its ``baryir fit`` config file.
        command: the command line that started the study, for the report.
        fresh: retrain and re-evaluate every run (else finished ones are reused).
    """
    started, clock = _now(), time.perf_counter()
    machine = machine_description()
    root = data_root(config)
    folders = train_folders(config, root)
    rows = build_rows(config, root)
    work_dir = Path(config.work_dir)
    eval_digest = config_digest(asdict(config.evaluation))
    mechanism_sets = mechanism_datasets(rows)  # fewer than 2 rows: nothing to compare
    mechanism_digest = config_digest(
        {"evaluation": asdict(config.evaluation), "blur": config.mechanism_blur}
    )
    scores: list[ImageScore] = []
    ssim: dict[tuple[str, int, str], float] = {}
    timings: list[RunTiming] = []
    mechanism = MechanismSummary()
    curve: list[CurvePoint] = []
    traces: list[ShareTrace] = []
    runs = [(seed, arm) for seed in config.seeds for arm in config.arms]
    trained: set[Path] = set()

    def curve_every(seed: int, arm: str) -> int | None:
        """Checkpoint interval of the budget curve: the reference arm's first seed only."""
        first_reference = arm == config.reference and seed == config.seeds[0]
        return config.budget_curve.every if config.budget_curve and first_reference else None

    def fit_of(seed: int, arm: str) -> dict[str, Any]:
        run_dir = work_dir / f"{arm}-seed{seed}"
        return fit_config(config, arm, seed, run_dir, folders, curve_every(seed, arm))

    for index, (seed, arm) in enumerate(runs, start=1):
        run_dir = work_dir / f"{arm}-seed{seed}"
        every = curve_every(seed, arm)
        fit = fit_of(seed, arm)
        if config.side_by_side and arm == config.arms[0]:
            trained |= train_side_by_side(
                [(fit_of(seed, other), work_dir / f"{other}-seed{seed}") for other in config.arms],
                fresh,
            )
        side_by_side = run_dir in trained
        train_s, cpu_s, reused = train_run(fit, run_dir, fresh and not side_by_side, fit_command)
        reused = reused and not side_by_side
        fit_digest = config_digest(fit)
        cache = run_dir / f"scores-{eval_digest}-{fit_digest}.json"
        mechanism_cache = run_dir / f"mechanism-{mechanism_digest}-{fit_digest}.json"
        if fresh:
            cache.unlink(missing_ok=True)
            mechanism_cache.unlink(missing_ok=True)
        checkpoint = run_dir / "checkpoints" / "last.ckpt"
        run_scores, run_ssim, eval_s = evaluate_run(config, checkpoint, rows, arm, seed, cache)
        scores += run_scores
        ssim |= run_ssim
        trace = read_shares(run_dir, arm, seed)
        if trace is not None:
            traces.append(trace)
        timings.append(RunTiming(arm, seed, config.steps, train_s, eval_s, cpu_s, reused))
        measured = None
        if len(mechanism_sets) >= 2:
            measured = measure_run(
                checkpoint,
                mechanism_sets,
                arm,
                seed,
                config.mechanism_blur,
                eval_device(config),
                mechanism_cache,
            )
        said = "not measured"
        if measured is not None:
            mechanism.runs.append(measured[0])
            if seed == config.seeds[0]:
                mechanism.embeddings[arm] = measured[1]
            said = f"b/r divergence {measured[0].b_divergence:.3f}/{measured[0].r_divergence:.3f}"
        if every is not None:
            prefix = f"curve-{eval_digest}-{fit_digest}"
            curve = evaluate_curve(config, run_dir, rows, arm, seed, run_scores, prefix, fresh)
            said += f"; budget curve at {len({p.step for p in curve})} steps"
        elapsed = time.perf_counter() - clock
        left = elapsed / index * (len(runs) - index)
        print(
            f"[{index}/{len(runs)}] {arm} seed {seed}: trained {config.steps} steps in "
            f"{train_s:.0f} s{' (reused)' if reused else ''}, evaluated {len(rows)} rows in "
            f"{eval_s:.0f} s; mechanism: {said}; about {left / 60:.0f} min left",
            flush=True,
        )
    arm_rows, differences = summarize(
        scores,
        ssim,
        [(group, dataset.label) for group, dataset in rows],
        config.arms,
        config.reference,
        config.seeds,
        config.level,
        config.bootstrap,
    )
    mechanism.rows = summarize_mechanism(
        mechanism.runs, config.arms, config.reference, config.seeds, config.level, config.bootstrap
    )
    budget, train, evaluation = _describe(config, root)
    meta = StudyMeta(
        command=command,
        revision=git_revision(),
        machine=machine,
        started=started,
        finished=_now(),
        duration_s=time.perf_counter() - clock,
        identical_batches=identical_batches(config, work_dir),
        budget=budget,
        train_data=train,
        evaluation=evaluation,
    )
    return write_report(
        config, arm_rows, differences, scores, timings, meta, mechanism, curve, traces
    )
