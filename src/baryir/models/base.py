"""Base classes of the networks: the recorded constructor config, input checks, padding, and
the encoder-decoder protocol a barycenter head sits on."""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from baryir.models.output import RestorationOutput
from baryir.models.padding import crop_to, pad_to_multiple

if TYPE_CHECKING:
    from baryir.models.head import BarycenterHead

__all__ = ["Configurable", "EncoderDecoder", "RestorationModel", "config_fields"]


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
    :attr:`stride`, set ``in_channels`` and ``latent_channels`` and name their last projection
    before the global residual :attr:`output_projection` (a submodule or a property), so
    :meth:`init_identity` makes them return their input exactly (``config`` is recorded, see
    :class:`Configurable`). Encoder-decoders subclass :class:`EncoderDecoder` instead.
    """

    has_barycenter: bool = False
    stride: int = 8
    """Input sides are padded to a multiple of this (the network's total downsampling)."""
    latent_channels: int
    in_channels: int
    output_projection: nn.Conv2d
    """The last projection before the global residual (what :meth:`init_identity` zeroes)."""

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
        """Run the network on ``x`` ``(B, C, H, W)`` with ``H, W`` multiples of :attr:`stride`."""


class EncoderDecoder(RestorationModel):
    """A backbone that encodes to a bottleneck latent and skips, and decodes back.

    The protocol every encoder-decoder of :mod:`baryir.models` shares, so that any of them
    carries a :class:`~baryir.models.head.BarycenterHead`. A subclass calls
    ``super().__init__()`` first, sets :attr:`stride` (class attribute), ``in_channels``,
    :attr:`latent_channels`, :attr:`skip_channels` and :attr:`decoder_in_channels` (its
    constructor argument ``decoder_in_channels: int | None = None``, default
    ``latent_channels``: the width of what :meth:`decode` receives at the bottleneck), names
    :attr:`output_projection` and implements :meth:`encode` and :meth:`decode`.

    The forward is written once here: ``decode(*encode(x)) + x``; with a head
    (:meth:`attach_head`) the decoder gets the head's features and corrected skips, and the
    output carries ``z, b, r`` (:attr:`has_barycenter` is then true).

    Example (a backbone carrying the head, built from primitive arguments)::

        class BaryToyNet(ToyNet):
            def __init__(self, width: int = 8, residual_skip_scale: float = 0.8) -> None:
                super().__init__(width, decoder_in_channels=2 * 4 * width)
                self.attach_head(BarycenterHead(self.latent_channels, self.skip_channels, ...))
    """

    latent_channels: int
    """Channels of the bottleneck latent."""
    skip_channels: tuple[int, ...]
    """Channels of the feature skips :meth:`encode` returns, deepest first (the ones a head
    corrects; extra skips after them are not listed)."""
    decoder_in_channels: int
    """Channels of the bottleneck features :meth:`decode` takes."""
    head: BarycenterHead | None

    def __init__(self) -> None:
        super().__init__()
        self.head = None

    @property
    def has_barycenter(self) -> bool:  # type: ignore[override]
        """Whether the network carries a barycenter head (its output has ``b`` and ``r``)."""
        return self.head is not None

    @abstractmethod
    def encode(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """``x (B, C, H, W)`` -> latent ``(B, latent_channels, H/stride, W/stride)`` and the
        skips, deepest first (``skip_channels``, each at twice the previous resolution), then
        any extra inputs the decoder reads (a head passes those through unchanged)."""

    @abstractmethod
    def decode(self, features: Tensor, skips: tuple[Tensor, ...]) -> Tensor:
        """Bottleneck ``features (B, decoder_in_channels, h, w)`` and the skips -> the image
        correction ``(B, C, H, W)`` (before the global residual)."""

    def attach_head(self, head: BarycenterHead) -> None:
        """Carry ``head`` at the bottleneck; its widths must be this backbone's."""
        name = type(self).__name__
        if head.latent_channels != self.latent_channels:
            raise ValueError(
                f"{name}: the head takes {head.latent_channels} latent channels, "
                f"the backbone's latent has {self.latent_channels}"
            )
        if head.skip_channels != tuple(self.skip_channels):
            raise ValueError(
                f"{name}: the head corrects skips of {list(head.skip_channels)} channels, "
                f"the backbone's are {list(self.skip_channels)}"
            )
        width = getattr(self, "decoder_in_channels", head.out_channels)
        if head.out_channels != width:
            raise ValueError(
                f"{name}: the head hands {head.out_channels} channels to the decoder, which "
                f"takes {width} (build the backbone with decoder_in_channels={head.out_channels})"
            )
        self.head = head

    def forward_padded(self, x: Tensor) -> RestorationOutput:
        """``decode(encode(x)) + x``, through the head when there is one."""
        latent, skips = self.encode(x)
        if self.head is None:
            return RestorationOutput(self.decode(latent, skips) + x, latent)
        out = self.head(latent, skips)
        restored = self.decode(out.features, out.skips) + x
        return RestorationOutput(restored, out.source_latent, out.barycenter, out.residual)
