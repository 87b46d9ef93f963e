"""The task's network from its ``model`` argument: a registry name or a class path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from baryir.models import create_model
from baryir.models.plain import as_restoration_network, build_network

__all__ = ["class_spec", "task_network"]


def class_spec(network: nn.Module) -> dict[str, Any]:
    """``{"class_path": ..., "init_args": ...}`` of a network given as an object: its class and
    its recorded ``config`` (a network without one is stored with no arguments)."""
    cls = type(network)
    return {
        "class_path": f"{cls.__module__}.{cls.__qualname__}",
        "init_args": dict(getattr(network, "config", None) or {}),
    }


def task_network(
    model: str | nn.Module | Mapping[str, Any], model_args: dict[str, Any] | None
) -> nn.Module:
    """The network ``model`` names, in the restoration interface
    (:func:`~baryir.models.plain.as_restoration_network`).

    Args:
        model: a registry name (with ``model_args`` as overrides), a network object (what
            LightningCLI builds from ``class_path``/``init_args``) or such a mapping (what a
            checkpoint stores).
        model_args: constructor overrides of a registry preset; None for the others.
    """
    if isinstance(model, str):
        return create_model(model, **(model_args or {}))
    if model_args:
        raise ValueError("model_args goes with a registry name; a class path takes init_args")
    if isinstance(model, nn.Module):
        return as_restoration_network(model)
    return build_network(model)
