"""The identity: a clean input, for "do no harm" evaluation rows and clean training pairs."""

from __future__ import annotations

import torch
from torch import Tensor

from baryir.degradations.base import Degradation
from baryir.degradations.registry import register_degradation

__all__ = ["Identity"]


@register_degradation("clean")
class Identity(Degradation):
    """Return the image unchanged (spec ``"clean"``): input = target.

    A restoration model should leave such an input alone; evaluation rows built with it measure
    how much a model changes a clean photo. Draws no random numbers.

    Example:
        >>> x = torch.rand(3, 8, 8)
        >>> bool((Identity()(x) == x).all())
        True
    """

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        return image.clone()
