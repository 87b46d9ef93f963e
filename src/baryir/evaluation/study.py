"""Equal-budget studies: several training arms, several seeds, paired per-image comparisons.

A study (``configs/study/*.yaml``, run by ``baryir study``) trains every arm (``ARMS``: the WB
solver ``none``, ``sinkhorn``, ``potentials``, optionally the plain ``restormer-tiny`` and
the PromptIR-backbone ``baryir-promptir-tiny`` with the Sinkhorn solver) with the
same ``baryir fit`` config, steps, seeds and batches, evaluates each run on in-distribution and
out-of-distribution rows, and compares every arm with a reference arm image by image.

Statistics (:func:`paired_difference_ci`): for an arm ``a`` and the reference ``r``, the paired
difference of one image ``i`` of row ``t`` under seed ``s`` is
``d[s, i] = PSNR_a(s, i) - PSNR_r(s, i)``. The estimate is the mean of ``d`` over seeds and
images (rows averaged with equal weight for the group rows). Its 95 % interval is a percentile
bootstrap that resamples the seeds and, independently, the images of each row (a crossed
design: both the training noise between seeds and the variation between images count), with a
seeded generator. With 3 seeds the seed part is coarse; the report says so.

Example:
    >>> d = torch.tensor([[0.2, 0.4], [0.1, 0.3]])  # 2 seeds x 2 images
    >>> mean, low, high = paired_difference_ci([d], n_boot=2000)
    >>> round(mean, 2), low <= mean <= high
    (0.25, True)
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from baryir.io.yaml_file import read_yaml_mapping

__all__ = [
    "ARMS",
    "ArmRow",
    "DifferenceRow",
    "ImageScore",
    "RunTiming",
    "StudyConfig",
    "StudyEvaluation",
    "StudyMeta",
    "StudyRunCallback",
    "answer_text",
    "config_digest",
    "difference_table",
    "image_psnr",
    "load_study_config",
    "paired_difference_ci",
    "plot_study",
    "psnr_table",
    "render_readme",
    "summarize",
    "timing_table",
    "verdict",
    "write_csv",
]

log = logging.getLogger(__name__)

ARMS: dict[str, dict[str, Any]] = {
    "none": {"wb_solver": "none"},
    "sinkhorn": {"wb_solver": "sinkhorn"},
    "potentials": {"wb_solver": "potentials"},
    "restormer-tiny": {"model": "restormer-tiny", "wb_solver": "none"},
    "baryir-promptir-tiny": {"model": "baryir-promptir-tiny", "wb_solver": "sinkhorn"},
}
"""Model-section overrides of each arm (everything else is the study's shared fit config)."""

GROUPS = {"id": "in-distribution", "ood": "out-of-distribution"}


@dataclass(frozen=True)
class StudyEvaluation:
    """Test rows and how they are scored.

    Attributes:
        in_distribution: ``build_test_set`` specs of degradations seen in training.
        out_of_distribution: specs of unseen levels, types and mixtures.
        seed: seed of the synthetic degradations (with the spec and file stem).
        max_images: first N images of each row (natural name order after any subset).
        crop: central crop side (before the degradation; None: whole images).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    """

    in_distribution: tuple[str, ...]
    out_of_distribution: tuple[str, ...]
    seed: int = 0
    max_images: int | None = 12
    crop: int | None = 256
    device: str = "auto"


@dataclass(frozen=True)
class StudyConfig:
    """A parsed study file (see ``configs/study/generalization-cpu.yaml``)."""

    name: str
    seeds: tuple[int, ...]
    arms: tuple[str, ...]
    steps: int
    train_folders: dict[str, str]
    fit: dict[str, Any]
    evaluation: StudyEvaluation
    reference: str = "none"
    output: str = "docs/results"
    work_dir: str = "runs/study"
    data_root: str | None = None
    readme_template: str = "docs/results/README.template.md"
    bootstrap: int = 10000
    level: float = 0.95
    practical_db: float = 0.05

    def with_overrides(self, **changes: Any) -> StudyConfig:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return _validated(replace(self, **{k: v for k, v in changes.items() if v is not None}))


def _validated(config: StudyConfig) -> StudyConfig:
    where = f"study {config.name!r}"
    unknown = [arm for arm in config.arms if arm not in ARMS]
    if unknown:
        raise ValueError(f"{where}: unknown arms {unknown}; valid: {', '.join(ARMS)}")
    if config.reference not in config.arms:
        raise ValueError(f"{where}: reference arm {config.reference!r} is not among {config.arms}")
    if len(set(config.arms)) != len(config.arms) or len(set(config.seeds)) != len(config.seeds):
        raise ValueError(f"{where}: arms and seeds must not repeat")
    if not config.seeds or config.steps < 1:
        raise ValueError(f"{where}: needs at least one seed and steps >= 1")
    if not 0 < config.level < 1 or config.bootstrap < 100:
        raise ValueError(f"{where}: level must be in (0, 1) and bootstrap >= 100")
    rows = config.evaluation.in_distribution + config.evaluation.out_of_distribution
    if not rows or len(set(rows)) != len(rows):
        raise ValueError(f"{where}: evaluation rows must be given and not repeat")
    for key in ("trainer", "model", "data"):
        if not isinstance(config.fit.get(key, {}), dict):
            raise ValueError(f"{where}: fit.{key} must be a mapping")
    return config


def load_study_config(path: str | Path) -> StudyConfig:
    """Read and check a study YAML file; unknown keys are errors naming the file."""
    path = Path(path)
    raw = read_yaml_mapping(path, "study config")
    names = {f.name for f in fields(StudyConfig)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}; valid: {sorted(names)}")
    evaluation = raw.pop("evaluation", None)
    if not isinstance(evaluation, dict):
        raise ValueError(f"{path}: 'evaluation' must be a mapping")
    valid = {f.name for f in fields(StudyEvaluation)}
    if set(evaluation) - valid:
        raise ValueError(f"{path}: unknown evaluation keys {sorted(set(evaluation) - valid)}")
    for key in ("in_distribution", "out_of_distribution"):
        evaluation[key] = tuple(str(spec) for spec in evaluation.get(key) or ())
    try:
        config = StudyConfig(
            **{
                **raw,
                "seeds": tuple(int(s) for s in raw.get("seeds") or ()),
                "arms": tuple(str(a) for a in raw.get("arms") or ()),
                "train_folders": {
                    str(k): str(v) for k, v in (raw.get("train_folders") or {}).items()
                },
                "fit": dict(raw.get("fit") or {}),
                "evaluation": StudyEvaluation(**evaluation),
            }
        )
    except TypeError as error:
        raise ValueError(f"{path}: {error}") from None
    return _validated(config)


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
            path = Path(self.fingerprint_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(self.fingerprints) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- statistics
def paired_difference_ci(
    blocks: Sequence[Tensor], level: float = 0.95, n_boot: int = 10000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean paired difference and its percentile-bootstrap interval over seeds and images.

    Args:
        blocks: one ``(S, I_t)`` tensor of differences ``d[s, i]`` per row ``t`` (same seeds
            ``S`` in every block, any number of images).
        level: coverage of the interval.
        n_boot: bootstrap draws.
        seed: seed of the bootstrap generator.

    Returns:
        ``(mean, low, high)``: the mean over rows of the mean of ``d``; ``low``/``high`` the
        ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the statistic over draws that
        resample the seeds (the same draw for every row) and the images of each row.
    """
    if not blocks:
        raise ValueError("paired_difference_ci: no rows")
    seeds = blocks[0].shape[0]
    if any(b.ndim != 2 or b.shape[0] != seeds or b.shape[1] < 1 for b in blocks):
        raise ValueError(
            "paired_difference_ci: each row needs a (seeds, images) tensor with the same seeds, "
            f"got {[tuple(b.shape) for b in blocks]}"
        )
    generator = torch.Generator().manual_seed(seed)
    seed_index = torch.randint(seeds, (n_boot, seeds), generator=generator)
    draws = torch.zeros(n_boot, dtype=torch.float64)
    for block in blocks:
        block = block.double()
        image_index = torch.randint(block.shape[1], (n_boot, block.shape[1]), generator=generator)
        draws += block[seed_index[:, :, None], image_index[:, None, :]].mean(dim=(1, 2))
    draws /= len(blocks)
    mean = float(torch.stack([b.double().mean() for b in blocks]).mean())
    alpha = (1 - level) / 2
    low, high = torch.quantile(draws, torch.tensor([alpha, 1 - alpha], dtype=torch.float64))
    return mean, float(low), float(high)


def image_psnr(pred: Tensor, target: Tensor, protocol: Any = None) -> float:
    """PSNR (dB) of one image ``(3, H, W)`` under ``protocol`` (default: the paper's)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    from baryir.metrics import EvalProtocol, prepare_pair

    protocol = protocol or EvalProtocol()
    pred, target = prepare_pair(pred, target, protocol)
    psnr = peak_signal_noise_ratio(
        pred, target, data_range=protocol.data_range, reduction="none", dim=(1, 2, 3)
    )
    return float(psnr[0])


def verdict(low: float, high: float) -> str:
    """``better`` when the interval lies above 0, ``worse`` below, else ``inconclusive``."""
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "inconclusive"


@dataclass(frozen=True)
class ImageScore:
    """One image of one row scored for one run."""

    arm: str
    seed: int
    row: str
    group: str
    image: str
    psnr: float
    input_psnr: float


@dataclass(frozen=True)
class ArmRow:
    """One arm on one row: mean and standard deviation over seeds of the row's mean PSNR/SSIM."""

    group: str
    row: str
    arm: str
    psnr_mean: float
    psnr_std: float
    ssim_mean: float
    ssim_std: float
    input_psnr: float
    seeds: int
    images: int


@dataclass(frozen=True)
class DifferenceRow:
    """An arm minus the reference on one row (or a group of rows), paired per (seed, image)."""

    group: str
    row: str
    arm: str
    reference: str
    diff_mean: float
    ci_low: float
    ci_high: float
    verdict: str
    seeds: int
    images: int


def _std(values: Tensor) -> float:
    return float(values.std(unbiased=True)) if values.numel() > 1 else float("nan")


def _grid(
    scores: Sequence[ImageScore], arm: str, row: str, seeds: Sequence[int]
) -> tuple[Tensor, list[str]]:
    """``(S, I)`` PSNR of ``arm`` on ``row`` with images in one order for every seed."""
    by_seed: dict[int, dict[str, float]] = {seed: {} for seed in seeds}
    for score in scores:
        if score.arm == arm and score.row == row and score.seed in by_seed:
            by_seed[score.seed][score.image] = score.psnr
    images = sorted(by_seed[seeds[0]])
    for seed, values in by_seed.items():
        if sorted(values) != images or not images:
            raise ValueError(
                f"row {row!r}, arm {arm!r}: seed {seed} scored images {sorted(values)[:5]}, "
                f"seed {seeds[0]} scored {images[:5]} (they must match)"
            )
    grid = [[by_seed[s][i] for i in images] for s in seeds]
    return torch.tensor(grid, dtype=torch.float64), images


def summarize(
    scores: Sequence[ImageScore],
    row_ssim: dict[tuple[str, int, str], float],
    rows: Sequence[tuple[str, str]],
    arms: Sequence[str],
    reference: str,
    seeds: Sequence[int],
    level: float = 0.95,
    n_boot: int = 10000,
) -> tuple[list[ArmRow], list[DifferenceRow]]:
    """Per-arm row summaries and paired differences to ``reference`` (rows, then groups).

    Args:
        scores: per-image PSNRs of every (arm, seed, row).
        row_ssim: mean SSIM of each ``(arm, seed, row)``.
        rows: ``(group, row label)`` in report order.
        arms, reference, seeds: the study's arms, reference arm and seeds.
        level, n_boot: the bootstrap interval's coverage and draws.
    """
    arm_rows: list[ArmRow] = []
    grids: dict[tuple[str, str], tuple[Tensor, list[str]]] = {}
    for group, row in rows:
        for arm in arms:
            grid, images = _grid(scores, arm, row, seeds)
            grids[arm, row] = (grid, images)
            inputs = [s.input_psnr for s in scores if s.arm == arm and s.row == row]
            ssim = torch.tensor([row_ssim[arm, seed, row] for seed in seeds])
            per_seed = grid.double().mean(dim=1)
            arm_rows.append(
                ArmRow(
                    group,
                    row,
                    arm,
                    float(per_seed.mean()),
                    _std(per_seed),
                    float(ssim.mean()),
                    _std(ssim),
                    float(np.mean(inputs)),
                    len(seeds),
                    len(images),
                )
            )
    differences: list[DifferenceRow] = []
    for arm in arms:
        if arm == reference:
            continue
        blocks_by_group: dict[str, list[Tensor]] = {}
        for index, (group, row) in enumerate(rows):
            grid, images = grids[arm, row]
            ref_grid, ref_images = grids[reference, row]
            if images != ref_images:
                raise ValueError(f"row {row!r}: {arm} and {reference} scored different images")
            block = grid.double() - ref_grid.double()
            blocks_by_group.setdefault(group, []).append(block)
            ci = paired_difference_ci([block], level, n_boot, seed=index)
            differences.append(
                DifferenceRow(
                    group, row, arm, reference, *ci, verdict(*ci[1:]), len(seeds), len(images)
                )
            )
        for group, blocks in blocks_by_group.items():
            ci = paired_difference_ci(blocks, level, n_boot, seed=len(rows))
            label = f"{GROUPS.get(group, group)} (mean of {len(blocks)} rows)"
            images_total = sum(b.shape[1] for b in blocks)
            differences.append(
                DifferenceRow(
                    group, label, arm, reference, *ci, verdict(*ci[1:]), len(seeds), images_total
                )
            )
    return arm_rows, differences


def config_digest(config: dict[str, Any]) -> str:
    """Stable short hash of a JSON-able mapping (to reuse finished runs)."""
    import hashlib

    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------- reports
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


@dataclass(frozen=True)
class StudyMeta:
    """What the report says about how it was made."""

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


def _fmt(value: float, signed: bool = False) -> str:
    if value != value:  # nan
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def write_csv(path: Path, rows: Sequence[Any]) -> Path:
    """Write dataclass rows as CSV (header from the field names), atomically."""
    import csv
    import io
    from dataclasses import asdict

    from baryir.evaluation.report import atomic_write_text

    buffer = io.StringIO()
    names = [f.name for f in fields(rows[0])] if rows else []
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: f"{v:.6g}" if isinstance(v, float) else v for k, v in asdict(row).items()}
        )
    atomic_write_text(path, buffer.getvalue())
    return path


def _row_order(arm_rows: Sequence[ArmRow]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r.group, r.row) for r in arm_rows))


def psnr_table(arm_rows: Sequence[ArmRow], arms: Sequence[str]) -> str:
    """Markdown: one line per row, ``mean ± std`` over seeds per arm, input PSNR first."""
    cell = {(r.row, r.arm): r for r in arm_rows}
    lines = [
        "| group | row | input | " + " | ".join(f"`{a}`" for a in arms) + " |",
        "|---|---|---:|" + "---:|" * len(arms),
    ]
    for group, row in _row_order(arm_rows):
        first = cell[row, arms[0]]
        values = [f"{_fmt(cell[row, a].psnr_mean)} ± {_fmt(cell[row, a].psnr_std)}" for a in arms]
        lines.append(
            f"| {GROUPS.get(group, group)} | `{row}` | {_fmt(first.input_psnr)} | "
            + " | ".join(values)
            + " |"
        )
    return "\n".join(lines)


_MARK = {"better": " ▲", "worse": " ▼", "inconclusive": ""}


def difference_table(differences: Sequence[DifferenceRow], arms: Sequence[str]) -> str:
    """Markdown: mean paired difference ``[low, high]`` per arm; ▲/▼ when the CI excludes 0."""
    cell = {(d.row, d.arm): d for d in differences}
    order = list(dict.fromkeys((d.group, d.row) for d in differences))
    lines = [
        "| group | row | " + " | ".join(f"`{a}`" for a in arms) + " |",
        "|---|---|" + "---:|" * len(arms),
    ]
    for group, row in order:
        values = []
        for arm in arms:
            d = cell[row, arm]
            values.append(
                f"{_fmt(d.diff_mean, True)} [{_fmt(d.ci_low, True)}, {_fmt(d.ci_high, True)}]"
                f"{_MARK[d.verdict]}"
            )
        name = f"**{row}**" if "(mean of" in row else f"`{row}`"
        lines.append(f"| {GROUPS.get(group, group)} | {name} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def timing_table(timings: Sequence[RunTiming], arms: Sequence[str]) -> str:
    """Markdown: mean training/evaluation wall time per arm over its seeds."""
    lines = [
        "| arm | runs | train s (mean) | s/step | eval s (mean) | total s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for arm in arms:
        own = [t for t in timings if t.arm == arm]
        if not own:
            continue
        train = float(np.mean([t.train_s for t in own]))
        evaluation = float(np.mean([t.eval_s for t in own]))
        total = sum(t.train_s + t.eval_s for t in own)
        reused = " (reused)" if any(t.reused for t in own) else ""
        lines.append(
            f"| `{arm}`{reused} | {len(own)} | {train:.1f} | {train / own[0].steps:.3f} | "
            f"{evaluation:.1f} | {total:.0f} |"
        )
    return "\n".join(lines)


def plot_study(
    arm_rows: Sequence[ArmRow],
    differences: Sequence[DifferenceRow],
    arms: Sequence[str],
    reference: str,
    path: Path,
) -> Path:
    """Top: PSNR per row and arm (error bars: std over seeds; grey bars: the degraded input).
    Bottom: paired difference to ``reference`` with its bootstrap interval. The
    out-of-distribution rows are shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from baryir.evaluation.report import save_figure

    order = _row_order(arm_rows)
    cell = {(r.row, r.arm): r for r in arm_rows}
    diff = {(d.row, d.arm): d for d in differences}
    x = np.arange(len(order))
    width = 0.8 / len(arms)
    colours = plt.get_cmap("tab10")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(9.0, 0.75 * len(order) + 3), 8))
    inputs = [cell[row, arms[0]].input_psnr for _, row in order]
    top.scatter(x, inputs, marker="_", s=300, color="0.45", label="degraded input", zorder=1)
    for k, arm in enumerate(arms):
        offset = (k - (len(arms) - 1) / 2) * width
        means = [cell[row, arm].psnr_mean for _, row in order]
        stds = [np.nan_to_num(cell[row, arm].psnr_std) for _, row in order]
        top.errorbar(
            x + offset, means, yerr=stds, fmt="o", ms=4, capsize=3, color=colours(k), label=arm
        )
        if arm == reference:
            continue
        mean = np.array([diff[row, arm].diff_mean for _, row in order])
        low = np.array([diff[row, arm].ci_low for _, row in order])
        high = np.array([diff[row, arm].ci_high for _, row in order])
        bottom.errorbar(
            x + offset,
            mean,
            yerr=[mean - low, high - mean],
            fmt="o",
            ms=4,
            capsize=3,
            color=colours(k),
            label=f"{arm} - {reference}",
        )
    bottom.axhline(0.0, color="black", lw=0.8)
    ood = [i for i, (group, _) in enumerate(order) if group == "ood"]
    for ax in (top, bottom):
        if ood:
            ax.axvspan(min(ood) - 0.5, max(ood) + 0.5, color="0.92", zorder=0)
        ax.set_xticks(x)
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.legend(fontsize=8, loc="best")
        ax.grid(axis="y", alpha=0.3)
    top.set_xticklabels([])
    bottom.set_xticklabels([row for _, row in order], rotation=35, ha="right", fontsize=8)
    top.set_ylabel("PSNR (dB), mean ± std over seeds")
    bottom.set_ylabel(f"PSNR difference to {reference} (dB)\n95% bootstrap CI")
    top.set_title("in distribution (white) | out of distribution (grey)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def answer_text(
    differences: Sequence[DifferenceRow],
    arms: Sequence[str],
    reference: str,
    level: float,
    practical: float = 0.05,
) -> tuple[str, str]:
    """The headline answer and one line per arm and group, from the intervals (not hard-coded).

    The claim is about the WB arms (``ARMS`` entries with a ``wb_solver`` other than ``none``):
    one supports it when the interval of its mean paired difference over the out-of-distribution
    rows lies above 0 and the mean is at least ``practical`` dB.

    Returns:
        ``(headline, per-arm bullet lines)`` in Markdown.
    """
    percent = f"{level * 100:g}%"
    lines, pooled_ood = [], {}
    for arm in arms:
        if arm == reference:
            continue
        for group in ("ood", "id"):
            own = [d for d in differences if d.arm == arm and d.group == group]
            if not own:
                continue
            pooled = next(d for d in own if "(mean of" in d.row)
            per_row = [d for d in own if d is not pooled]
            counts = {v: sum(d.verdict == v for d in per_row) for v in ("better", "worse")}
            if pooled.verdict == "better":
                claim = f"beats `{reference}` beyond the seed and image noise"
            elif pooled.verdict == "worse":
                claim = f"is worse than `{reference}` beyond the seed and image noise"
            else:
                claim = f"is not distinguishable from `{reference}` (the interval contains 0)"
            if group == "ood":
                pooled_ood[arm] = pooled
            lines.append(
                f"- `{arm}`, {GROUPS[group]}: {_fmt(pooled.diff_mean, True)} dB "
                f"[{_fmt(pooled.ci_low, True)}, {_fmt(pooled.ci_high, True)}] ({percent} CI, "
                f"mean of {len(per_row)} rows): {claim}; per row, better on "
                f"{counts['better']}, worse on {counts['worse']}, inconclusive on "
                f"{len(per_row) - counts['better'] - counts['worse']} of {len(per_row)}."
            )
    wb_arms = [a for a in pooled_ood if ARMS.get(a, {}).get("wb_solver", "none") != "none"]
    better = [a for a in wb_arms if pooled_ood[a].verdict == "better"]
    strong = [a for a in better if pooled_ood[a].diff_mean >= practical]
    names = ", ".join(f"`{a}`" for a in (strong or better or wb_arms))
    interval = (
        f"the {percent} CI of the mean paired PSNR difference over the out-of-distribution rows"
    )
    if strong:
        headline = (
            f"Out of distribution, {names} beat `{reference}` beyond the seed and image noise "
            f"({interval} lies above 0, by at least {practical:g} dB). At this small scale this "
            "supports the paper's claim that barycenter alignment generalises better."
        )
    elif better:
        headline = (
            f"Out of distribution, {names} beat `{reference}` beyond the seed and image noise "
            f"({interval} lies above 0) but by less than {practical:g} dB: too little to count "
            "as support for the claim that barycenter alignment generalises better."
        )
    else:
        headline = (
            f"Out of distribution, no WB arm ({names}) beats `{reference}` beyond the seed and "
            f"image noise: {interval} reaches 0 or below. This small study does not support "
            "the claim that barycenter alignment generalises better (nor does it refute it: "
            "see what the numbers do not show)."
        )
    return headline, "\n".join(lines)


def render_readme(template: str, values: dict[str, str]) -> str:
    """Fill a ``string.Template`` (``$name`` placeholders); a missing value is an error."""
    from string import Template

    try:
        return Template(template).substitute(values)
    except KeyError as error:
        raise ValueError(f"README template: no value for placeholder {error}") from None
