"""``baryir study --config configs/study/generalization-cpu.yaml``: an equal-budget comparison.

For every seed and arm of the study (:mod:`baryir.evaluation.study`), trains the network through
``baryir fit`` (:func:`baryir.cli.main`, in this process) with the study's shared fit config,
then scores the checkpoint with :func:`baryir.evaluation.runner.evaluate` on the
in-distribution and out-of-distribution rows, keeping every image's PSNR. Writes into
``--output`` (default: the study's ``output``, ``docs/results``):

- ``<name>.md``: the tables (PSNR mean ± std over seeds; paired differences to the reference arm
  with 95 % bootstrap intervals; wall time per arm), the exact command, git revision, machine,
  timestamps;
- ``<name>.csv`` (per arm and row), ``<name>-differences.csv``, ``<name>-per-image.csv``,
  ``<name>-timing.csv``, ``<name>.png`` (the plot);
- ``README.md`` from the template (``readme_template``), saying what the numbers show and not.

Runs live in ``--work-dir/<arm>-seed<seed>/`` (``fit.yaml``, checkpoint, CSV logs, batch
fingerprints). A run whose ``run.json`` matches its fit config is reused, and so is its
evaluation (``scores-<digest>.json``), unless ``--fresh``: an interrupted study picks up where
it stopped.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import yaml

from baryir.evaluation.study import (
    ARMS,
    ImageScore,
    RunTiming,
    StudyConfig,
    StudyMeta,
    config_digest,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baryir study", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="study YAML, e.g. configs/study/*.yaml")
    parser.add_argument("--output", default=None, help="folder for the report (default: study's)")
    parser.add_argument("--work-dir", default=None, help="folder for the runs (default: study's)")
    parser.add_argument("--steps", type=int, default=None, help="training steps of every run")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds to run")
    parser.add_argument("--arms", nargs="+", default=None, help=f"arms among {list(ARMS)}")
    parser.add_argument("--max-images", type=int, default=None, help="images scored per row")
    parser.add_argument("--fresh", action="store_true", help="retrain and re-evaluate every run")
    return parser


# ----------------------------------------------------------------------------- the runs
def data_root(config: StudyConfig) -> Path:
    """The study's data root (``data_root`` or the shared data); raises if it is missing."""
    from baryir.evaluation.runner import default_data_root

    root = Path(config.data_root) if config.data_root else default_data_root()
    if root is None or not root.is_dir():
        raise FileNotFoundError(
            f"study {config.name}: data root not found ({root}); set data_root in the study "
            "file or BARYIR_SHARED_DATA"
        )
    return root


def train_folders(config: StudyConfig, root: Path) -> dict[str, str]:
    """``train_folders`` with paths made absolute under ``root`` (subset and ``spec@`` kept)."""
    from baryir.data.datasets.subset import split_folder_override, subset_label

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


def fit_config(
    config: StudyConfig, arm: str, seed: int, run_dir: Path, folders: dict[str, str]
) -> dict[str, Any]:
    """The ``baryir fit`` config of one run: the shared one plus the run's seed, arm, paths."""
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
            "class_path": "baryir.evaluation.study.StudyRunCallback",
            "init_args": {"seed": seed, "fingerprint_path": str(run_dir / "batches.txt")},
        },
    ]
    fit.setdefault("model", {}).update(ARMS[arm])
    data = fit.setdefault("data", {})
    data["seed"] = seed
    data["folders"] = {**data.get("folders", {}), **folders}
    return fit


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def train_run(fit: dict[str, Any], run_dir: Path, fresh: bool) -> tuple[float, float, bool]:
    """Train one run with ``baryir fit`` unless a finished identical one exists.

    Returns:
        ``(wall seconds, CPU seconds, reused)``.
    """
    from baryir.cli import main as cli_main

    digest = config_digest(fit)
    record = run_dir / "run.json"
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if not fresh and record.is_file() and checkpoint.is_file():
        done = json.loads(record.read_text(encoding="utf-8"))
        if done.get("digest") == digest:
            return float(done["train_s"]), float(done["cpu_s"]), True
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint.unlink(missing_ok=True)
    config_path = run_dir / "fit.yaml"
    config_path.write_text(yaml.safe_dump(fit, sort_keys=False), encoding="utf-8")
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    with warnings.catch_warnings():
        # cli.main is meant to be called from Python here: the study's own argv is not for it
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        cli_main(["fit", "--config", str(config_path)])
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    if not checkpoint.is_file():
        raise RuntimeError(f"baryir fit wrote no checkpoint at {checkpoint}")
    record.write_text(
        json.dumps({"digest": digest, "train_s": wall, "cpu_s": cpu}, indent=2), encoding="utf-8"
    )
    return wall, cpu, False


def evaluate_run(
    config: StudyConfig,
    checkpoint: Path,
    datasets: list[tuple[str, Any]],
    arm: str,
    seed: int,
    cache: Path | None,
) -> tuple[list[ImageScore], dict[tuple[str, int, str], float], float]:
    """Score one checkpoint on every row; per-image PSNRs, row SSIMs and the wall seconds."""
    from baryir.evaluation.runner import evaluate
    from baryir.evaluation.study import image_psnr
    from baryir.metrics import EvalProtocol

    if cache is not None and cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        scores = [ImageScore(**s) for s in saved["scores"]]
        ssim = {(arm, seed, row): value for row, value in saved["ssim"].items()}
        return scores, ssim, float(saved["eval_s"])
    protocol = EvalProtocol()
    device = config.evaluation.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    group_of = {dataset.label: group for group, dataset in datasets}
    scores: list[ImageScore] = []

    def keep(label: str, item: dict[str, Any], restored: torch.Tensor) -> None:
        target = item["target"].to(restored.device)
        scores.append(
            ImageScore(
                arm,
                seed,
                label,
                group_of[label],
                str(item["name"]),
                image_psnr(restored, target, protocol),
                image_psnr(item["input"].to(restored.device), target, protocol),
            )
        )

    start = time.perf_counter()
    rows = evaluate(
        checkpoint,
        [dataset for _, dataset in datasets],
        protocol=protocol,
        device=device,
        on_image=keep,
    )
    elapsed = time.perf_counter() - start
    ssim = {(arm, seed, row): values["ssim"] for row, values in rows.items()}
    if cache is not None:
        cache.write_text(
            json.dumps(
                {
                    "scores": [asdict(s) for s in scores],
                    "ssim": {row: values["ssim"] for row, values in rows.items()},
                    "eval_s": elapsed,
                }
            ),
            encoding="utf-8",
        )
    return scores, ssim, elapsed


def build_rows(config: StudyConfig, root: Path) -> list[tuple[str, Any]]:
    """``(group, dataset)`` of every evaluation row, labelled by its spec."""
    from baryir.data.datasets.testsets import build_test_set

    evaluation = config.evaluation
    rows = []
    for group, specs in (
        ("id", evaluation.in_distribution),
        ("ood", evaluation.out_of_distribution),
    ):
        for spec in specs:
            dataset = build_test_set(
                spec, root, evaluation.seed, evaluation.max_images, evaluation.crop
            )
            dataset.label = spec
            rows.append((group, dataset))
    return rows


# ----------------------------------------------------------------------------- provenance
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


# ----------------------------------------------------------------------------- main
def run_study(config: StudyConfig, argv: Sequence[str], fresh: bool = False) -> dict[str, Path]:
    """Train, evaluate and report a study; returns the written files by kind."""
    from baryir.evaluation.study import summarize

    started, clock = _now(), time.perf_counter()
    machine = machine_description()
    root = data_root(config)
    folders = train_folders(config, root)
    rows = build_rows(config, root)
    work_dir = Path(config.work_dir)
    eval_digest = config_digest(asdict(config.evaluation))
    scores: list[ImageScore] = []
    ssim: dict[tuple[str, int, str], float] = {}
    timings: list[RunTiming] = []
    runs = [(seed, arm) for seed in config.seeds for arm in config.arms]
    for index, (seed, arm) in enumerate(runs, start=1):
        run_dir = work_dir / f"{arm}-seed{seed}"
        fit = fit_config(config, arm, seed, run_dir, folders)
        train_s, cpu_s, reused = train_run(fit, run_dir, fresh)
        cache = run_dir / f"scores-{eval_digest}-{config_digest(fit)}.json"
        if fresh:
            cache.unlink(missing_ok=True)
        run_scores, run_ssim, eval_s = evaluate_run(
            config, run_dir / "checkpoints" / "last.ckpt", rows, arm, seed, cache
        )
        scores += run_scores
        ssim |= run_ssim
        timings.append(RunTiming(arm, seed, config.steps, train_s, eval_s, cpu_s, reused))
        elapsed = time.perf_counter() - clock
        left = elapsed / index * (len(runs) - index)
        print(
            f"[{index}/{len(runs)}] {arm} seed {seed}: trained {config.steps} steps in "
            f"{train_s:.0f} s{' (reused)' if reused else ''}, evaluated {len(rows)} rows in "
            f"{eval_s:.0f} s; about {left / 60:.0f} min left",
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
    budget, train, evaluation = _describe(config, root)
    meta = StudyMeta(
        command="baryir study " + shlex.join(argv),
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
    return write_report(config, arm_rows, differences, scores, timings, meta)


def write_report(
    config: StudyConfig,
    arm_rows: list,
    differences: list,
    scores: list[ImageScore],
    timings: list[RunTiming],
    meta: StudyMeta,
) -> dict[str, Path]:
    """Write the Markdown, CSVs, plot and README of a finished study."""
    from baryir.evaluation.report import atomic_write_text
    from baryir.evaluation.study import (
        answer_text,
        difference_table,
        plot_study,
        psnr_table,
        render_readme,
        timing_table,
        write_csv,
    )

    out = Path(config.output)
    name = config.name
    files = {
        "csv": write_csv(out / f"{name}.csv", arm_rows),
        "differences": write_csv(out / f"{name}-differences.csv", differences),
        "per_image": write_csv(out / f"{name}-per-image.csv", scores),
        "timing": write_csv(out / f"{name}-timing.csv", timings),
        "plot": plot_study(
            arm_rows, differences, config.arms, config.reference, out / f"{name}.png"
        ),
    }
    others = [a for a in config.arms if a != config.reference]
    headline, verdicts = answer_text(
        differences, config.arms, config.reference, config.level, config.practical_db
    )
    level = f"{config.level * 100:g}%"
    header = "\n".join(
        [
            f"- Command: `{meta.command}`",
            f"- Git revision: `{meta.revision}`",
            f"- Machine: {meta.machine}",
            f"- Started {meta.started}, finished {meta.finished} ({meta.duration_s / 60:.1f} min)",
            f"- Budget: {meta.budget}",
            f"- Training data: {meta.train_data}",
            f"- Evaluation: {meta.evaluation}",
            f"- Same training batches in every arm: {meta.identical_batches}",
        ]
    )
    markdown = f"""# Study `{name}`: does barycenter alignment generalise better?

{header}

## Answer (computed from the intervals)

{headline}

{verdicts}

## PSNR (dB): mean ± std over {len(config.seeds)} seeds

{psnr_table(arm_rows, config.arms)}

## Paired difference to `{config.reference}` (dB), {level} bootstrap CI over seeds and images

Each cell: mean over seeds and images of PSNR(arm) - PSNR(`{config.reference}`) on the same
image with the same seed, and its {level} percentile-bootstrap interval (seeds and images
resampled). ▲: the interval lies above 0 (better), ▼: below 0 (worse). The group lines weight
every row equally. Intervals are per row, not corrected for multiple comparisons.

{difference_table(differences, others)}

## Wall time per arm

{timing_table(timings, config.arms)}

![PSNR per row and arm]({name}.png)

Files: `{name}.csv` (per arm and row), `{name}-differences.csv`, `{name}-per-image.csv`
(every image of every run), `{name}-timing.csv`.
"""
    files["markdown"] = out / f"{name}.md"
    atomic_write_text(files["markdown"], markdown)
    template = Path(config.readme_template)
    if not template.is_file():
        raise FileNotFoundError(f"study {name}: README template not found: {template}")
    readme = render_readme(
        template.read_text(encoding="utf-8"),
        {
            "name": name,
            "headline": headline,
            "verdicts": verdicts,
            "header": header,
            "level": level,
            "reference": config.reference,
            "seeds": str(len(config.seeds)),
            "steps": str(config.steps),
            "differences": difference_table(
                [d for d in differences if "(mean of" in d.row or d.group == "ood"], others
            ),
            "markdown": f"{name}.md",
            "plot": f"{name}.png",
        },
    )
    files["readme"] = out / "README.md"
    atomic_write_text(files["readme"], readme)
    return files


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    from baryir.evaluation.study import StudyEvaluation, load_study_config

    try:
        config = load_study_config(args.config)
        evaluation = config.evaluation
        if args.max_images is not None:
            if args.max_images < 1:
                raise ValueError(f"--max-images must be positive, got {args.max_images}")
            evaluation = StudyEvaluation(**{**asdict(evaluation), "max_images": args.max_images})
        config = config.with_overrides(
            output=args.output,
            work_dir=args.work_dir,
            steps=args.steps,
            seeds=tuple(args.seeds) if args.seeds else None,
            arms=tuple(args.arms) if args.arms else None,
            evaluation=evaluation,
        )
        root = data_root(config)
        train_folders(config, root)
        build_rows(config, root)
    except (OSError, ValueError) as error:
        print(f"baryir study: error: {error}", file=sys.stderr)
        return 2
    files = run_study(config, list(argv), fresh=args.fresh)
    print(f"wrote {', '.join(str(path) for path in files.values())}")
    return 0
