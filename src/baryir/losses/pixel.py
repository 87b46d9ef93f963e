"""Pixel reconstruction losses (L1 as in the paper, Charbonnier as an option)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["charbonnier_loss", "pixel_loss"]

Reduction = Literal["mean", "sum", "none"]


def _check_pair(restored: Tensor, target: Tensor, where: str) -> None:
    if restored.shape != target.shape:
        raise ValueError(
            f"{where}: restored {tuple(restored.shape)} and target {tuple(target.shape)} "
            "must have the same shape"
        )


def _reduce(loss: Tensor, reduction: Reduction, where: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def charbonnier_loss(
    restored: Tensor, target: Tensor, eps: float = 1e-3, reduction: Reduction = "mean"
) -> Tensor:
    r"""Charbonnier (smooth L1) loss :math:`\sqrt{(x - y)^2 + \epsilon^2}`, element-wise.

    Args:
        restored: :math:`(B, C, H, W)` (any shape).
        target: same shape.
        eps: smoothing constant :math:`\epsilon`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (element-wise, same shape as inputs).

    Example:
        >>> charbonnier_loss(torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2), eps=0.0)
        tensor(1.)
    """
    _check_pair(restored, target, "charbonnier_loss")
    loss = torch.sqrt((restored - target).pow(2) + eps * eps)
    return _reduce(loss, reduction, "charbonnier_loss")


def pixel_loss(
    restored: Tensor,
    target: Tensor,
    kind: Literal["l1", "charbonnier"] = "l1",
    eps: float = 1e-3,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Reconstruction loss: ``"l1"`` is :math:`|x - y|` (paper), ``"charbonnier"`` see
    :func:`charbonnier_loss` (``eps`` is used by it only).

    Args:
        restored: :math:`(B, C, H, W)` (any shape).
        target: same shape.
        kind: ``"l1"`` or ``"charbonnier"``.
        eps: Charbonnier constant.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Example:
        >>> pixel_loss(torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5))
        tensor(0.5000)
    """
    if kind == "l1":
        _check_pair(restored, target, "pixel_loss")
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"pixel_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        return F.l1_loss(restored, target, reduction=reduction)
    if kind == "charbonnier":
        return charbonnier_loss(restored, target, eps, reduction)
    raise ValueError(f"pixel_loss: kind must be 'l1' or 'charbonnier', got {kind!r}")
