"""Named model presets, and the one way to build a network from a weights file.

- :func:`register_model` registers a preset as data (a class and constructor arguments), with
  a decorator on the class it builds; :func:`list_models` names them;
- :func:`create_model` builds a preset by name (``weights=`` loads a file into it);
- :func:`load_model` builds whatever network a weights file holds: a Lightning ``.ckpt`` of
  ``baryir fit``, an exported ``.safetensors`` or the authors' released ``.pth``/``.pt`` (read
  by :func:`baryir.io.checkpoint.load_weights`: ``weights_only=True``, or, for the release's
  whole pickled modules, their tensors without running their code; renamed by
  :mod:`baryir.models.official` when released), with a strict load and one error naming the file;
- :func:`export_model` writes a network as ``.safetensors`` plus its JSON config.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from torch import Tensor, nn

from baryir.io.checkpoint import CheckpointError, export_weights, load_weights
from baryir.models.base import config_fields
from baryir.models.detect import Peer, detect_peer
from baryir.models.dual_potentials import DualPotentials
from baryir.models.official import (
    RELEASED_PRESETS,
    Arch,
    convert_official_state_dict,
    detect_official_arch,
    potentials_config,
)
from baryir.models.plain import build_network
from baryir.registry import Registry

__all__ = [
    "TINY",
    "TINY_PROMPTS",
    "ModelPreset",
    "convert_official_checkpoint",
    "create_model",
    "export_model",
    "list_models",
    "load_model",
    "load_official_checkpoint",
    "model_config",
    "register_model",
]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=type[nn.Module])

POTENTIALS = "potentials"
"""The name files give to :class:`DualPotentials` (not a preset: the weights give its size)."""

TINY: dict[str, Any] = {
    "dim": 12,
    "num_blocks": (1, 2, 2, 2),
    "num_refinement_blocks": 1,
    "ffn_expansion_factor": 2.0,
}
"""The tiny presets' sizes: about 1-1.5 M parameters, trainable on a laptop CPU (quickstart:
batch 6 of 48x48)."""
TINY_PROMPTS: dict[str, Any] = {"prompt_dims": (16, 32, 64), "prompt_sizes": (32, 16, 8)}
"""The tiny presets' prompt blocks."""


@dataclass(frozen=True)
class ModelPreset:
    """A model class and the constructor arguments of a preset."""

    cls: type[nn.Module]
    kwargs: dict[str, Any] = field(default_factory=dict)


_MODELS = Registry[ModelPreset]("model")


def register_model(name: str, **overrides: Any) -> Callable[[M], M]:
    """Class decorator: register the preset ``name``, the class built with ``overrides``.

    Stack one decorator per preset on the class they build; the arguments are checked against
    the constructor's signature when the class is defined. Works from user code: a class of
    the user's own module registers the same way, and the same class defined again (its
    module imported again, a notebook cell run again) replaces its entry; another class under
    a taken name is an error.

    Example:
        >>> @register_model("restormer-small", dim=24)  # doctest: +SKIP
        ... class Restormer(RestorationModel): ...
    """

    def decorator(cls: M) -> M:
        unknown = sorted(set(overrides) - set(config_fields(cls)))
        if unknown:
            raise ValueError(f"register_model({name!r}): {cls.__name__} has no arguments {unknown}")
        again = name in _MODELS and _definition(_MODELS.get(name).cls) == _definition(cls)
        _MODELS.add(name, ModelPreset(cls, overrides), replace=again)
        return cls

    return decorator


def _definition(cls: type) -> tuple[str | None, str]:
    """Where ``cls`` is defined: its module's file (``None`` in a notebook) and its name."""
    return getattr(sys.modules.get(cls.__module__), "__file__", None), cls.__qualname__


def list_models() -> list[str]:
    """Names of the registered presets, sorted."""
    return _MODELS.names()


def model_config(model: nn.Module) -> dict[str, Any]:
    """Constructor arguments of ``model`` (JSON-able), so ``cls(**config)`` rebuilds it.

    Recorded from the constructor call (see :class:`baryir.models.base.Configurable`).
    """
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise ValueError(f"model_config: {type(model).__name__} has no constructor config")
    return dict(config)


def _preset(name: str) -> ModelPreset:
    if name == POTENTIALS:
        return ModelPreset(DualPotentials)
    try:
        return _MODELS.get(name)
    except ValueError as exc:
        raise ValueError(f"create_model: {exc}") from None


def _build(name: str, stored: dict[str, Any], overrides: dict[str, Any]) -> nn.Module:
    """Preset ``name`` with the arguments ``stored`` in a file (valid ones), then ``overrides``."""
    preset = _preset(name)
    valid = config_fields(preset.cls)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(
            f"create_model({name!r}): unknown arguments {unknown}; valid arguments: {valid}"
        )
    kwargs = {**preset.kwargs, **{k: v for k, v in stored.items() if k in valid}, **overrides}
    model = preset.cls(**kwargs)
    model.preset_name = name  # what export_model writes, so the file names its network
    return model


def create_model(name: str, weights: str | Path | None = None, **overrides: Any) -> nn.Module:
    """Build the preset ``name``, with constructor ``overrides``, optionally loading weights.

    Args:
        name: a name from :func:`list_models`.
        weights: a weights file (see :func:`load_model`: ``.ckpt``, ``.safetensors`` or a
            released ``.pth``). A config stored with the weights overrides the preset's
            arguments; explicit ``overrides`` win over both. Loading is strict.
        overrides: constructor arguments of the preset's class.

    Example:
        >>> model = create_model("baryir-tiny", dim=8)
    """
    if weights is not None:
        return _from_file(weights, name, overrides, name_from_file=False)
    return _build(name, {}, overrides)


def load_model(path: str | Path, name: str | None = None, arch: Arch | None = None) -> nn.Module:
    """The network stored in a weights file, in eval mode: the one loader.

    Args:
        path: a Lightning ``.ckpt`` written by ``baryir fit`` (its ``model.`` weights and the
            preset in its hyper-parameters), an exported ``.safetensors`` (its JSON config), or
            the authors' released ``.pth``/``.pt`` (recognised from its parameter names and
            renamed, see :mod:`baryir.models.official`), or a peer's file as its authors ship
            it (NAFNet's BasicSR ``.pth``, AdaIR's Lightning ``.ckpt``: the network and its
            size recognised from the tensors, see :mod:`baryir.models.detect`). Never runs
            code from the file (see :func:`baryir.io.checkpoint.load_weights`).
        name: registry name to use when the file does not say which network it holds.
        arch: for a released file: ``"barynet"`` (-> preset ``baryir``), ``"promptir"``
            (-> ``promptir``) or ``"potentials"`` (-> :class:`DualPotentials`); recognised
            from the names when ``None``.

    Raises:
        FileNotFoundError, CheckpointError (a ``ValueError``): the file is missing, unreadable,
        refused (it needs code to unpickle) or its weights do not fit the network.

    Example:
        >>> model = load_model("runs/quickstart/checkpoints/last.ckpt")  # doctest: +SKIP
    """
    return _from_file(path, name, {}, name_from_file=True, arch=arch).eval()


def _from_file(
    path: str | Path,
    name: str | None,
    overrides: dict[str, Any],
    name_from_file: bool,
    arch: Arch | None = None,
    released: bool = False,
) -> nn.Module:
    """Read ``path``, rename released weights, build the network and load it strictly.

    Released names are recognised in files that do not name their network (or must be there
    when ``released``); ``arch`` skips the recognition.
    """
    state_dict, stored = load_weights(path)
    stored = stored or {}
    if name_from_file:
        name = stored.get("model") or name
    peer = detect_peer(state_dict) if arch is None and not stored else None
    if peer is not None:  # NAFNet's, AdaIR's: the tensors give the size
        name = name or _peer_preset(peer)
        logger.info("%s holds the authors' %s; recognised %s", path, name, peer.config)
        state_dict, stored = peer.state_dict, {"config": peer.config}
    elif arch is None and released:
        arch = detect_official_arch(state_dict)
    elif arch is None and not stored:  # a file that names its network is one of ours
        with contextlib.suppress(ValueError):
            arch = detect_official_arch(state_dict)
    if arch is not None:
        logger.info("%s holds the authors' released names; converting (%s)", path, arch)
        state_dict = convert_official_state_dict(state_dict, arch)
        name = name or RELEASED_PRESETS.get(arch, POTENTIALS)
        if name == POTENTIALS:
            stored = {"config": potentials_config(state_dict)}
    if name is None:
        keys = sorted(state_dict)
        raise CheckpointError(
            f"{path}: the file does not say which network it holds and its {len(keys)} keys "
            f"({keys[:4]}{' ...' if len(keys) > 4 else ''}) match no known network; pass a "
            f"registry name (--model NAME)"
        )
    if isinstance(name, Mapping):  # a class path and its init_args
        model = build_network(name)
    else:
        model = _build(name, stored.get("config") or {}, overrides)
    load_strict(model, state_dict, path)
    return model


def _peer_preset(peer: Peer) -> str:
    """The preset of ``peer``'s class whose arguments its tensors give, else the last."""
    for name in peer.presets:
        preset = _preset(name)
        defaults = {k: p.default for k, p in inspect.signature(preset.cls).parameters.items()}
        arguments = {**defaults, **preset.kwargs}
        plain = {k: list(v) if isinstance(v, tuple) else v for k, v in arguments.items()}
        if all(plain.get(k) == v for k, v in peer.config.items()):
            return name
    return peer.presets[-1]


def load_strict(model: nn.Module, state_dict: dict[str, Tensor], source: str | Path) -> None:
    """``model.load_state_dict(state_dict, strict=True)`` with one error naming ``source``.

    Raises:
        CheckpointError: missing or unexpected names, or shapes that differ.
    """
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(state_dict)), sorted(set(state_dict) - set(own))
    shapes = sorted(
        f"{k}: {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(state_dict)
        if state_dict[k].shape != own[k].shape
    )
    if missing or unexpected or shapes:

        def first(names: list[str]) -> str:
            return f"{names[:10]}{' ...' if len(names) > 10 else ''} ({len(names)})"

        raise CheckpointError(
            f"{source}: weights do not fit {type(model).__name__}: missing {first(missing)}, "
            f"unexpected {first(unexpected)}, shape mismatches {first(shapes)}"
        )
    model.load_state_dict(state_dict, strict=True)


def export_model(model: nn.Module, path: str | Path, name: str | None = None) -> Path:
    """Write ``model`` as ``path`` (``.safetensors``) plus ``<stem>.json`` (name and config).

    Args:
        model: a network built by :func:`create_model` or :func:`load_model` (or any network
            with a ``config``, given ``name``).
        path: the ``.safetensors`` file; both files are written atomically.
        name: the registry name to store (default: the one the network was built from).

    Returns:
        ``path`` as a ``Path``; :func:`load_model` rebuilds the network from it.
    """
    name = name or getattr(model, "preset_name", None)
    if name is None:
        raise ValueError(f"export_model: say which preset {type(model).__name__} is (name=...)")
    export_weights(model.state_dict(), path, name, model_config(model))
    return Path(path)


def load_official_checkpoint(path: str | Path, arch: Arch | None = None) -> nn.Module:
    """Build our network from the authors' released checkpoint file (see :func:`load_model`).

    Args:
        path: a released ``.pth``/``.pt`` (raw or wrapped state dict).
        arch: "barynet" (-> preset ``baryir``), "promptir" (-> ``promptir``) or "potentials"
            (-> :class:`DualPotentials`, adaptive pooling); recognised from the names when
            ``None``, and an error when they are not released names.
    """
    return _from_file(path, None, {}, name_from_file=True, arch=arch, released=True).eval()


def convert_official_checkpoint(src: str | Path, dst: str | Path, arch: Arch | None = None) -> Path:
    """Convert a released checkpoint to a safetensors file plus a JSON sidecar.

    ``dst`` gets our state dict (safetensors); ``dst`` with suffix ``.json`` gets
    ``{"model": preset, "config": constructor args}`` (preset ``baryir``/``promptir``, or
    ``potentials`` for :class:`DualPotentials`), both written atomically (:func:`export_model`).

    Returns:
        ``dst`` as a ``Path``.
    """
    return export_model(load_official_checkpoint(src, arch), dst)
