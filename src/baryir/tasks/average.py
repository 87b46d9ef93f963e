"""The exponential moving average of the network's weights (``RestorationTask``'s
``ema_decay``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

__all__ = ["update_average"]


def update_average(
    average: AveragedModel, model: nn.Module, decay: float, skip: Tensor | None = None
) -> None:
    """``average.update_parameters(model)`` for the exponential moving average of
    ``get_ema_multi_avg_fn(decay)`` (``use_buffers=True``): the first update copies, the later
    ones move by ``1 - decay``; the same values, with the first-update test made on the device
    instead of read on the host. ``skip`` (a bool tensor): when True, nothing changes."""
    averaged = [*average.module.parameters(), *average.module.buffers()]
    current = [*model.parameters(), *model.buffers()]
    with torch.no_grad():
        weight = torch.where(average.n_averaged == 0, 1.0, 1.0 - decay).to(averaged[0].dtype)
        if skip is not None:
            weight = torch.where(skip, 0.0, weight)
        torch._foreach_lerp_(averaged, current, [weight] * len(averaged))
        average.n_averaged += 1 if skip is None else (~skip).long()
