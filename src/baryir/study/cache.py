"""What a study keeps between two starts: its JSON records, keyed by a digest of their config.

A run's ``run.json`` (:func:`record_run`) says it finished from a given ``baryir fit`` config
(:func:`config_digest` of it) and how long it took; :func:`finished_run` reads it back, so a
restarted study reuses the run. A run's scores on the rows go to ``scores-<digest>.json``
(:func:`write_scores`, :func:`read_scores`); the mechanism's cache is
:func:`baryir.study.mechanism.measure_run`'s.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from baryir.io.atomic import atomic_write_text
from baryir.study.stats import ImageScore

__all__ = ["config_digest", "finished_run", "read_scores", "record_run", "write_scores"]


def config_digest(config: dict[str, Any]) -> str:
    """Stable short hash of a JSON-able mapping (to reuse finished runs)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def finished_run(fit: dict[str, Any], run_dir: Path) -> tuple[float, float] | None:
    """``(wall, CPU seconds)`` of a finished run trained from ``fit``, else None."""
    record = run_dir / "run.json"
    if record.is_file() and (run_dir / "checkpoints" / "last.ckpt").is_file():
        done = json.loads(record.read_text(encoding="utf-8"))
        if done.get("digest") == config_digest(fit):
            return float(done["train_s"]), float(done["cpu_s"])
    return None


def record_run(fit: dict[str, Any], run_dir: Path, wall: float, cpu: float) -> None:
    """Mark the run finished (``run.json``); raises if it wrote no checkpoint."""
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        raise RuntimeError(f"baryir fit wrote no checkpoint at {checkpoint}")
    record = {"digest": config_digest(fit), "train_s": wall, "cpu_s": cpu}
    atomic_write_text(run_dir / "run.json", json.dumps(record, indent=2))


def read_scores(
    cache: Path, arm: str, seed: int
) -> tuple[list[ImageScore], dict[tuple[str, int, str], float], float]:
    """The per-image scores, row SSIMs and wall seconds that :func:`write_scores` saved."""
    saved = json.loads(cache.read_text(encoding="utf-8"))
    scores = [ImageScore(**s) for s in saved["scores"]]
    ssim = {(arm, seed, row): value for row, value in saved["ssim"].items()}
    return scores, ssim, float(saved["eval_s"])


def write_scores(
    cache: Path, scores: list[ImageScore], ssim: dict[str, float], eval_s: float
) -> None:
    """Save a run's per-image scores, its SSIM per row and the evaluation's wall seconds."""
    saved = {"scores": [asdict(s) for s in scores], "ssim": ssim, "eval_s": eval_s}
    atomic_write_text(cache, json.dumps(saved))
