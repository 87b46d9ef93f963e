"""A user's own network in the :class:`~baryir.models.RestorationOutput` interface.

A plain network is any ``nn.Module`` whose forward maps ``(B, C, H, W)`` to the restored image
``(B, C, H, W)`` and nothing else. :class:`PlainNetwork` pads its input to the network's
``stride`` (its attribute; 1 when it has none), crops the result back and returns it as a
:class:`~baryir.models.RestorationOutput` without a barycenter, so the task, the evaluation and
:func:`~baryir.inference.restore` call it as they call the registry's networks.
:func:`build_network` builds a network from a ``class_path``/``init_args`` mapping (what a
checkpoint of ``baryir fit --model.model my.pkg.MyNet`` stores).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from baryir.models.output import RestorationOutput
from baryir.models.padding import crop_to, pad_to_multiple

__all__ = ["PlainNetwork", "as_restoration_network", "build_network"]


class PlainNetwork(nn.Module):
    """``network`` (``(B, C, H, W) -> (B, C, H, W)``) returning a
    :class:`~baryir.models.RestorationOutput` (``source_latent`` empty, ``(B, 0, 1, 1)``).

    Args:
        network: the plain network (its weights are under ``network.`` in the state dict).
    """

    has_barycenter = False
    latent_channels = 0

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        stride = getattr(network, "stride", 1)
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"{type(network).__name__}.stride must be an int >= 1, got {stride!r}")
        self.network = network
        self.stride = stride

    def forward(self, x: Tensor) -> RestorationOutput:
        """Restore ``x`` ``(B, C, H, W)``: pad to :attr:`stride`, run, crop back."""
        padded, size = pad_to_multiple(x, self.stride)
        restored = self.network(padded)
        if not isinstance(restored, Tensor) or restored.shape != padded.shape:
            what = tuple(restored.shape) if isinstance(restored, Tensor) else type(restored)
            raise TypeError(
                f"{type(self.network).__name__} must return the restored image of shape "
                f"{tuple(padded.shape)}, got {what}"
            )
        return RestorationOutput(crop_to(restored, size), x.new_zeros(x.shape[0], 0, 1, 1))

    @torch.no_grad()
    def init_identity(self) -> None:
        """The network's own ``init_identity`` (an error when it has none)."""
        init = getattr(self.network, "init_identity", None)
        if init is None:
            raise ValueError(f"identity_init: {type(self.network).__name__} has no init_identity()")
        init()


def as_restoration_network(network: nn.Module) -> nn.Module:
    """``network`` when it returns a :class:`~baryir.models.RestorationOutput` (it says
    ``has_barycenter``), else :class:`PlainNetwork` around it."""
    return network if hasattr(network, "has_barycenter") else PlainNetwork(network)


def build_network(spec: Mapping[str, Any]) -> nn.Module:
    """The network ``{"class_path": "pkg.module.Class", "init_args": {...}}`` describes, in the
    restoration interface (:func:`as_restoration_network`). The module is imported: build only
    from files you trust.

    Raises:
        ValueError: no ``class_path``, a class that cannot be imported or is not an
            ``nn.Module``.
    """
    path = spec.get("class_path")
    if not isinstance(path, str) or "." not in path:
        raise ValueError(f"model: expected a class path 'package.module.Class', got {path!r}")
    module_name, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"model: cannot import {path}: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"model: {path} is not an nn.Module class")
    return as_restoration_network(cls(**dict(spec.get("init_args") or {})))
