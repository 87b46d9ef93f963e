"""Base classes of the networks: the recorded constructor config, input checks, padding."""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from baryir.models.output import RestorationOutput
from baryir.models.padding import crop_to, pad_to_multiple

__all__ = ["Configurable", "RestorationModel", "config_fields"]


def config_fields(cls: type) -> list[str]:
    """The constructor arguments of ``cls``: the names a config holds."""
    return list(inspect.signature(cls).parameters)


def _plain(value: Any) -> Any:
    """Tuples as lists (JSON has no tuples), so a config survives a JSON round trip unchanged."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _recording(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap ``init`` so that the instance keeps its bound arguments, defaults included."""
    signature = inspect.signature(init)
    variadic = [
        p.name for p in signature.parameters.values() if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if variadic:
        raise TypeError(
            f"{init.__qualname__}: *args/**kwargs {variadic} cannot be recorded in a config; "
            f"name every argument"
        )

    @functools.wraps(init)
    def __init__(self: nn.Module, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        init(self, *args, **kwargs)
        arguments = list(bound.arguments.items())[1:]  # without self
        # The outermost constructor finishes last, so a subclass's arguments win.
        self.config = {name: _plain(value) for name, value in arguments}

    return __init__


class Configurable(nn.Module):
    """An ``nn.Module`` whose ``config`` is the arguments its constructor was called with.

    The constructor signature is the one source of the settings: ``config`` holds every
    argument (defaults included, sequences as lists), so ``type(m)(**m.config)`` rebuilds
    ``m`` and :func:`baryir.models.model_config` stores it with the weights. Subclasses name
    every argument (no ``*args``/``**kwargs``).
    """

    config: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording(cls.__dict__["__init__"])


class RestorationModel(Configurable, ABC):
    """A network ``(B, C, H, W) -> RestorationOutput`` that works at any ``H, W``.

    Subclasses implement :meth:`forward_padded` on inputs whose sides are multiples of
    :attr:`stride` and set ``has_barycenter`` and ``latent_channels`` (``config`` is recorded,
    see :class:`Configurable`).
    Every network ends with ``decoder.output`` (the last projection) plus the input (the
    global residual), so :meth:`init_identity` makes it return its input exactly.
    """

    has_barycenter: bool = False
    stride: int = 8
    """Input sides are padded to a multiple of this (the network's total downsampling)."""
    latent_channels: int
    in_channels: int

    def forward(self, x: Tensor) -> RestorationOutput:
        """Restore ``x`` ``(B, C, H, W)`` in [0, 1]; pads to a multiple of :attr:`stride` and
        crops back."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}: expected input (B, {self.in_channels}, H, W), "
                f"got {tuple(x.shape)}"
            )
        padded, size = pad_to_multiple(x, self.stride)
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
