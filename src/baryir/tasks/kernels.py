"""Optimisers rebuilt with their fused or foreach kernels (``RestorationTask``'s
``optimizer_kernels``): the same update to float rounding, in a few operations instead of
several per parameter tensor."""

from __future__ import annotations

import inspect
from typing import Literal

import torch

__all__ = ["Kernels", "with_kernels"]

Kernels = Literal["auto", "fused", "foreach", "default"]
"""``auto`` rebuilds an optimiser with ``fused=True`` where its class has a fused kernel for the
parameters' device (Adam, AdamW, SGD, Adagrad; CPU and CUDA), else ``foreach=True`` where it has
that (RMSprop), unless its own arguments set ``fused`` or ``foreach``; ``fused``/``foreach`` ask
for that one (an error where the class has none); ``default``: as built (torch's choice: a loop
over the tensors on the CPU)."""


def with_kernels(optimizer: torch.optim.Optimizer, kernels: Kernels) -> torch.optim.Optimizer:
    """``optimizer`` rebuilt (same class, groups and settings, no state yet) with its fused or
    foreach implementation; see :data:`Kernels`."""
    if kernels not in ("auto", "fused", "foreach", "default"):
        raise ValueError(
            f"optimizer_kernels must be 'auto', 'fused', 'foreach' or 'default', got {kernels!r}"
        )
    defaults = optimizer.defaults
    chosen = kernels == "default" or defaults.get("fused") or defaults.get("foreach") is not None
    if chosen and kernels in ("auto", "default"):
        return optimizer
    wanted = ["fused", "foreach"] if kernels == "auto" else [kernels]
    groups = [
        {k: v for k, v in group.items() if k not in ("fused", "foreach")}
        for group in optimizer.param_groups
    ]
    accepted = inspect.signature(type(optimizer)).parameters
    settings = {k: v for k, v in defaults.items() if k in accepted}
    for kind in (k for k in wanted if k in accepted):
        try:
            options = {**settings, kind: True}
            options.update({k: None for k in ("fused", "foreach") if k in accepted and k != kind})
            return type(optimizer)(groups, **options)
        except RuntimeError:  # no fused kernel for these parameters (device or dtype)
            if kernels != "auto":
                raise
    if kernels != "auto":
        raise ValueError(f"optimizer_kernels={kernels!r}: {type(optimizer).__name__} has none")
    return optimizer
