"""What a study's report says about how it was made: command, revision, machine, setup.

:class:`StudyMeta` holds it; the git revision and the machine come from
:mod:`baryir.provenance`, the setup's sentences from :func:`describe_setup`, and whether the arms
of a seed saw the same batches from the fingerprints of
:class:`~baryir.study.run_callback.StudyRunCallback` (:func:`identical_batches`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from baryir.study.config import StudyConfig

__all__ = ["StudyMeta", "describe_setup", "identical_batches"]


@dataclass(frozen=True)
class StudyMeta:
    """What the report says about how it was made; ``mechanism_rows``: the labels of the rows
    whose ``b`` and ``r`` the mechanism compares (empty: none)."""

    command: str
    revision: str
    machine: str
    started: str
    finished: str
    duration_s: float
    identical_batches: str
    budget: str
    train_data: str
    evaluation: str
    mechanism_rows: tuple[str, ...] = ()


def describe_setup(config: StudyConfig, root: Path) -> tuple[str, str, str]:
    """The budget, the training data and the evaluation of a study, one sentence each."""
    model = config.fit.get("model", {})
    data = config.fit.get("data", {})
    budget = (
        f"{config.steps} steps per run, batch {data.get('batch_size', '?')} of "
        f"{data.get('patch_size', '?')}x{data.get('patch_size', '?')} crops, "
        f"model `{model.get('model', '?')}` {model.get('model_args') or ''}, seeds "
        f"{list(config.seeds)}, arms {list(config.arms)} (reference `{config.reference}`)"
    )
    train = ", ".join(
        f"{degradation}: `{value}`" for degradation, value in config.train_folders.items()
    )
    mix = f"{data.get('mix_by', 'repeats')} {data.get('mix', data.get('repeats'))}"
    train = f"tasks {data.get('tasks')}; {train} (under `{root}`); {mix}"
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
