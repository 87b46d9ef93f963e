"""Named model presets: ``create_model``, ``list_models``, ``model_config``."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from baryir.models.barynet import BaryNet
from baryir.models.barynet_promptir import BaryNetP
from baryir.models.promptir import PromptIR
from baryir.models.restormer import Restormer

__all__ = ["ModelPreset", "create_model", "list_models", "model_config", "register_model"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPreset:
    """A model class and the constructor arguments of a preset."""

    cls: type[nn.Module]
    kwargs: dict[str, Any] = field(default_factory=dict)


_PRESETS: dict[str, Callable[[], ModelPreset]] = {}


def register_model(name: str) -> Callable[[Callable[[], ModelPreset]], Callable[[], ModelPreset]]:
    """Register a preset entry function ``() -> ModelPreset`` under ``name``."""

    def decorator(entry: Callable[[], ModelPreset]) -> Callable[[], ModelPreset]:
        if name in _PRESETS:
            raise ValueError(f"register_model: preset {name!r} is already registered")
        _PRESETS[name] = entry
        return entry

    return decorator


def list_models() -> list[str]:
    """Names of the registered presets, sorted."""
    return sorted(_PRESETS)


def model_config(model: nn.Module) -> dict[str, Any]:
    """Constructor arguments of ``model`` (JSON-able), so ``cls(**config)`` rebuilds it."""
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise ValueError(f"model_config: {type(model).__name__} has no constructor config")
    return dict(config)


def create_model(name: str, weights: str | Path | None = None, **overrides: Any) -> nn.Module:
    """Build the preset ``name``, with constructor ``overrides``, optionally loading weights.

    Args:
        name: a name from :func:`list_models`.
        weights: a weights file read by ``baryir.io.checkpoint.load_weights`` (our own or a
            released checkpoint). A config stored with the weights overrides the preset's
            arguments; explicit ``overrides`` win over both. Loading is strict.
        overrides: constructor arguments of the preset's class.

    Example:
        >>> model = create_model("baryir-tiny", dim=8)
    """
    if name not in _PRESETS:
        raise ValueError(f"create_model: unknown model {name!r}; valid names: {list_models()}")
    preset = _PRESETS[name]()
    valid = [p for p in inspect.signature(preset.cls).parameters if p != "self"]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(
            f"create_model({name!r}): unknown arguments {unknown}; valid arguments: {valid}"
        )
    kwargs = dict(preset.kwargs)
    state_dict = None
    if weights is not None:
        from baryir.io.checkpoint import load_weights

        state_dict, stored = load_weights(weights)
        stored = stored.get("config", stored) if stored else {}
        kwargs.update({k: v for k, v in stored.items() if k in valid})
    kwargs.update(overrides)
    model = preset.cls(**kwargs)
    if state_dict is not None:
        _load_state_dict(model, state_dict, weights)
    return model


def _load_state_dict(model: nn.Module, state_dict: dict, source: str | Path | None) -> None:
    """Load strictly, converting a released (official) state dict when needed."""
    own = set(model.state_dict())
    if set(state_dict) - own:
        from baryir.models.official import (
            convert_official_state_dict,
            detect_official_arch,
            extract_state_dict,
        )

        released = extract_state_dict(state_dict)
        try:
            arch = detect_official_arch(released)
        except ValueError:
            arch = None
        if arch is not None:
            logger.info("create_model: %s holds released names; converting", source)
            state_dict = convert_official_state_dict(released, arch)
    missing, unexpected = sorted(own - set(state_dict)), sorted(set(state_dict) - own)
    if missing or unexpected:
        raise ValueError(
            f"create_model: weights {source} do not fit {type(model).__name__}: "
            f"missing {missing[:10]}{' ...' if len(missing) > 10 else ''} ({len(missing)}), "
            f"unexpected {unexpected[:10]}{' ...' if len(unexpected) > 10 else ''} "
            f"({len(unexpected)})"
        )
    model.load_state_dict(state_dict, strict=True)


# Tiny presets: about 1-1.5 M parameters, trainable on a laptop CPU (quickstart: batch 6 of 48x48).
_TINY = {
    "dim": 12,
    "num_blocks": [1, 2, 2, 2],
    "num_refinement_blocks": 1,
    "ffn_expansion_factor": 2.0,
}
_TINY_PROMPTS = {"prompt_dims": [16, 32, 64], "prompt_sizes": [32, 16, 8]}


@register_model("baryir")
def _baryir() -> ModelPreset:
    return ModelPreset(BaryNet)


@register_model("baryir-tiny")
def _baryir_tiny() -> ModelPreset:
    return ModelPreset(
        BaryNet,
        {**_TINY, "num_barycenter_blocks": 2},
    )


@register_model("restormer")
def _restormer() -> ModelPreset:
    return ModelPreset(Restormer)


@register_model("restormer-tiny")
def _restormer_tiny() -> ModelPreset:
    return ModelPreset(Restormer, dict(_TINY))


@register_model("promptir")
def _promptir() -> ModelPreset:
    return ModelPreset(PromptIR)


@register_model("promptir-tiny")
def _promptir_tiny() -> ModelPreset:
    return ModelPreset(
        PromptIR,
        {**_TINY, **_TINY_PROMPTS},
    )


@register_model("baryir-promptir")
def _baryir_promptir() -> ModelPreset:
    return ModelPreset(BaryNetP)


@register_model("baryir-promptir-tiny")
def _baryir_promptir_tiny() -> ModelPreset:
    return ModelPreset(
        BaryNetP,
        {**_TINY, **_TINY_PROMPTS, "num_barycenter_blocks": 2},
    )
