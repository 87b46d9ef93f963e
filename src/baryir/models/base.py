"""Base class of the restoration networks: input checks, padding, cropping."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn

from baryir.models.output import RestorationOutput
from baryir.models.padding import crop_to, pad_to_multiple

__all__ = ["RestorationModel"]

STRIDE = 8


class RestorationModel(nn.Module, ABC):
    """A network ``(B, C, H, W) -> RestorationOutput`` that works at any ``H, W``.

    Subclasses implement :meth:`forward_padded` on inputs whose sides are multiples of 8 and
    set ``config`` (their constructor arguments), ``has_barycenter`` and ``latent_channels``.
    Every network ends with ``decoder.output`` (the last projection) plus the input (the
    global residual), so :meth:`init_identity` makes it return its input exactly.
    """

    has_barycenter: bool = False
    latent_channels: int
    in_channels: int
    config: dict[str, Any]

    def forward(self, x: Tensor) -> RestorationOutput:
        """Restore ``x`` ``(B, C, H, W)`` in [0, 1]; pads to a multiple of 8 and crops back."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}: expected input (B, {self.in_channels}, H, W), "
                f"got {tuple(x.shape)}"
            )
        padded, size = pad_to_multiple(x, STRIDE)
        out = self.forward_padded(padded)
        # A new tuple rather than ``_replace``: torch.compile (dynamo) cannot trace ``_replace``.
        return RestorationOutput(
            crop_to(out.restored, size), out.source_latent, out.barycenter, out.residual
        )

    @property
    def output_projection(self) -> nn.Conv2d:
        """The last projection before the global residual (``decoder.output``)."""
        return self.decoder.output

    @torch.no_grad()
    def init_identity(self) -> None:
        """Zero the output projection: the network then returns its input exactly.

        For fresh training only (a small-budget recipe: the model starts by doing no harm and
        learns the correction); loading weights afterwards overwrites it as usual. Gradients
        still reach every layer from the second step on.
        """
        projection = self.output_projection
        projection.weight.zero_()
        if projection.bias is not None:
            projection.bias.zero_()

    @abstractmethod
    def forward_padded(self, x: Tensor) -> RestorationOutput:
        """Run the network on ``x`` ``(B, C, H, W)`` with ``H, W`` multiples of 8."""
