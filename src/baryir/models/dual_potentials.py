"""The dual potentials network ``f_k``, one per degradation source, of the Wasserstein-barycenter
solver (section 2 of the design notes); its loss terms are in :mod:`baryir.losses.potentials`."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from baryir.models.base import Configurable

__all__ = ["DualPotentials", "Potential", "released_side"]


def released_side(patch_size: int) -> int:
    """Spatial side after the released potential's conv for training patches of ``patch_size``.

    The latent of a ``P x P`` patch is ``P/8`` wide; the conv (kernel 4, stride 4, padding 1)
    gives ``(P/8 + 2 - 4) // 4 + 1`` (4 for ``P = 128``).
    """
    if patch_size % 8 != 0 or patch_size < 16:
        raise ValueError(
            f"released_side: patch_size must be a multiple of 8 >= 16, got {patch_size}"
        )
    return (patch_size // 8 + 2 - 4) // 4 + 1


class Potential(nn.Module):
    """One potential ``f_k``: grouped conv, LeakyReLU, flatten, three linears.

    ``conv4x4/4 (groups 4, no bias) -> LeakyReLU(0.2) -> [adaptive avg pool] -> flatten
    -> linear(F, F/4) -> linear(F/4, 64) -> LeakyReLU(0.2) -> linear(64, 1)``
    with ``F = channels * side^2``.

    Args:
        channels: channels of the barycenter embedding.
        side: spatial side before the flatten.
        pooling: "adaptive" pools to ``side x side`` (any input size); "released" needs the
            conv output to be exactly ``side x side``.

    Shape:
        ``(B, C, h, w) -> (B,)``
    """

    def __init__(self, channels: int, side: int, pooling: Literal["adaptive", "released"]) -> None:
        super().__init__()
        features = channels * side * side
        self.side = side
        self.pooling = pooling
        self.conv = nn.Conv2d(
            channels, channels, kernel_size=4, stride=4, padding=1, groups=4, bias=False
        )
        self.fc1 = nn.Linear(features, features // 4)
        self.fc2 = nn.Linear(features // 4, 64)
        self.fc3 = nn.Linear(64, 1)
        nn.init.normal_(self.conv.weight, mean=0.0, std=0.02)

    def forward(self, b: Tensor) -> Tensor:
        x = F.leaky_relu(self.conv(b), 0.2)
        if self.pooling == "adaptive":
            x = F.adaptive_avg_pool2d(x, self.side)
        elif x.shape[-2:] != (self.side, self.side):
            raise ValueError(
                f"Potential(pooling='released'): conv output is {tuple(x.shape[-2:])}, needs "
                f"({self.side}, {self.side}); use the training patch size or pooling='adaptive'"
            )
        x = self.fc2(self.fc1(x.flatten(1)))
        return self.fc3(F.leaky_relu(x, 0.2)).squeeze(1)


class DualPotentials(Configurable):
    """``K`` dual potentials ``f_k``, one per degradation source.

    Args:
        num_potentials: number of sources ``K``.
        channels: channels ``C`` of the barycenter embedding (384 for BaryNet).
        patch_size: training patch size; fixes the flatten width (side 4 for 128).
        pooling: "adaptive" (default) adaptive-average-pools the conv output to the released
            side, so any embedding size works and released weights load unchanged (the pooling
            is the identity at the training size); "released" is the exact released network,
            tied to ``patch_size``.

    Example:
        >>> f = DualPotentials(3)
        >>> f(torch.randn(2, 384, 16, 16), torch.tensor([0, 2])).shape
        torch.Size([2])
    """

    def __init__(
        self,
        num_potentials: int,
        channels: int = 384,
        patch_size: int = 128,
        pooling: Literal["adaptive", "released"] = "adaptive",
    ) -> None:
        super().__init__()
        if pooling not in ("adaptive", "released"):
            raise ValueError(
                f"DualPotentials: pooling must be 'adaptive' or 'released', got {pooling!r}"
            )
        if num_potentials < 1:
            raise ValueError(f"DualPotentials: num_potentials must be >= 1, got {num_potentials}")
        self.num_potentials = num_potentials
        self.channels = channels
        side = released_side(patch_size)
        self.potentials = nn.ModuleList(
            Potential(channels, side, pooling) for _ in range(num_potentials)
        )

    def all_potentials(self, b: Tensor) -> Tensor:
        """Every potential on every sample: ``(B, C, h, w) -> (B, K)``."""
        if b.ndim != 4 or b.shape[1] != self.channels:
            raise ValueError(
                f"DualPotentials: expected b of shape (B, {self.channels}, h, w), "
                f"got {tuple(b.shape)}"
            )
        return torch.stack([f(b) for f in self.potentials], dim=1)

    def forward(self, b: Tensor, source: Tensor) -> Tensor:
        """Each sample's own potential ``f_{source_i}(b_i)``: ``(B, C, h, w), (B,) -> (B,)``."""
        if source.shape != b.shape[:1] or source.dtype != torch.long:
            raise ValueError(
                f"DualPotentials: source must be int64 of shape ({b.shape[0]},), got "
                f"{source.dtype} {tuple(source.shape)}"
            )
        return self.all_potentials(b).gather(1, source[:, None]).squeeze(1)
