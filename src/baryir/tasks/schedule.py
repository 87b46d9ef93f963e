"""The ``cosine`` learning-rate schedule of ``RestorationTask``: linear warm-up, then cosine
decay over the run's network updates."""

from __future__ import annotations

import math

import torch

__all__ = ["cosine_schedule"]


def cosine_schedule(
    optimizer: torch.optim.Optimizer, total: float, warmup: int, min_lr_ratio: float
) -> torch.optim.lr_scheduler.LRScheduler:
    """lr x (k + 1) / ``warmup`` at update k < ``warmup``, then cosine decay from lr to
    ``min_lr_ratio`` x lr at update ``total`` (Lightning's ``estimated_stepping_batches``:
    ``max_steps``, or ``max_epochs`` x batches).

    Raises:
        ValueError: ``total`` is infinite or not longer than ``warmup``.
    """
    if not math.isfinite(total) or total <= warmup:
        raise ValueError(
            f"lr_schedule='cosine' needs a finite run longer than warmup_steps ({warmup}): "
            f"set trainer.max_steps or trainer.max_epochs (got {total} updates)"
        )
    total = int(total)
    base = optimizer.param_groups[0]["lr"]
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=total - warmup, eta_min=base * min_lr_ratio
    )
    if not warmup:
        return cosine
    ramp = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0 / warmup, total_iters=warmup - 1)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [ramp, cosine], [warmup])
