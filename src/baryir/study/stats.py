"""The statistics of a study: paired per-image differences and their bootstrap intervals.

For an arm ``a`` and the reference arm ``r``, the paired difference of one image ``i`` of row
``t`` under seed ``s`` is ``d[s, i] = PSNR_a(s, i) - PSNR_r(s, i)``. The estimate is the mean of
``d`` over seeds and images (rows averaged with equal weight for the group rows). Its interval
(:func:`paired_difference_ci`) is a percentile bootstrap that resamples the seeds and,
independently, the images of each row (a crossed design: both the training noise between seeds
and the variation between images count), with a seeded generator. With 3 seeds the seed part is
coarse; the report says so.

Example:
    >>> d = torch.tensor([[0.2, 0.4], [0.1, 0.3]])  # 2 seeds x 2 images
    >>> mean, low, high = paired_difference_ci([d], n_boot=2000)
    >>> round(mean, 2), low <= mean <= high
    (0.25, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "GROUPS",
    "ArmRow",
    "DifferenceRow",
    "ImageScore",
    "paired_difference_ci",
    "summarize",
    "verdict",
]

GROUPS = {
    "id": "in-distribution",
    "ood": "out-of-distribution",
    "kinds": "unseen kinds (effects, compounds)",
    "harm": "do no harm",
}
"""The groups of evaluation rows."""


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
