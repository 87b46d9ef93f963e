"""Build a network from any weights file users hand to the command line."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from baryir.io.checkpoint import load_weights
from baryir.models import create_model


def load_model(path: str | Path, model: str | None = None) -> tuple[nn.Module, str]:
    """Create the network stored in ``path`` (Lightning ``.ckpt``, exported ``.safetensors``).

    Args:
        path: checkpoint or exported weights; always read with ``weights_only=True``.
        model: registry name to use when the file carries no configuration.

    Returns:
        ``(network in eval mode, registry name)``.
    """
    state_dict, config = load_weights(path)
    name = (config or {}).get("model") or model
    if name is None:
        raise ValueError(
            f"{path}: the file does not say which network it holds; pass --model NAME "
            "(see baryir.models.list_models())"
        )
    network = create_model(name, **(config or {}).get("config", {}))
    missing, unexpected = network.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{path}: weights do not fit model {name!r}: {len(missing)} missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    return network.eval(), name
