"""Write the peers' checkpoints in their authors' formats, without the authors' code.

- NAFNet (BasicSR): ``torch.save({"params": state_dict, "params_ema": state_dict})`` (the EMA
  entry only in some releases), the authors' names, no prefix.
- AdaIR (PromptIR-style Lightning): ``torch.save`` of a Lightning checkpoint whose
  ``state_dict`` holds the network under ``net.`` and whose ``hyper_parameters`` hold the
  training options as an ``argparse.Namespace`` (an object a weights-only load refuses).

The names and shapes come from ``shared/reference/peers/<config>_state_dict.json``
(:func:`reference_tensors`), the seeded small networks from ``*_small.safetensors``
(:func:`reference_small`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import torch
from safetensors import safe_open
from torch import Tensor, nn

__all__ = [
    "adair_authors_state_dict",
    "reference_path",
    "reference_small",
    "reference_tensors",
    "write_adair_ckpt",
    "write_nafnet_pth",
]


def reference_path(name: str) -> Path:
    """``shared/reference/peers/<name>`` (``$BARYIR_SHARED``, else ``../shared`` of the repo)."""
    shared = os.environ.get("BARYIR_SHARED", Path(__file__).resolve().parents[1].parent / "shared")
    return Path(shared) / "reference" / "peers" / name


def reference_tensors(path: Path, device: str = "meta") -> dict[str, Tensor]:
    """The authors' state dict of a ``*_state_dict.json``: every name and shape, as empty
    tensors on ``device`` (``meta``: no memory, for the 116 M parameters of the largest)."""
    shapes = json.loads(path.read_text())["tensors"]
    return {name: torch.empty(shape, device=device) for name, shape in shapes.items()}


def reference_small(path: Path) -> tuple[dict[str, Tensor], dict[str, Tensor], dict]:
    """``(authors' weights, {input name: tensor}, constructor kwargs)`` of ``*_small.safetensors``.

    The inputs map ``input``/``output`` (and ``input_large``/``output_large`` where present).
    """
    with safe_open(path, framework="pt") as handle:
        kwargs = json.loads(handle.metadata()["kwargs"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    weights = {k.removeprefix("weight."): v for k, v in tensors.items() if k.startswith("weight.")}
    data = {k: v for k, v in tensors.items() if not k.startswith("weight.")}
    return weights, data, kwargs


def write_nafnet_pth(
    path: Path, state_dict: dict[str, Tensor], ema: dict[str, Tensor] | None
) -> Path:
    """BasicSR's file: ``{"params": state_dict}``, plus ``"params_ema"`` when ``ema`` is given."""
    checkpoint = {"params": state_dict}
    if ema is not None:
        checkpoint["params_ema"] = ema
    torch.save(checkpoint, path)
    return path


def write_adair_ckpt(path: Path, state_dict: dict[str, Tensor], epoch: int = 149) -> Path:
    """AdaIR's Lightning checkpoint: ``state_dict`` under ``net.``, options as a Namespace."""
    options = argparse.Namespace(
        epochs=150, batch_size=8, lr=2e-4, de_type=["denoise_15", "derain", "dehaze"]
    )
    torch.save(
        {
            "epoch": epoch,
            "global_step": 1000 * epoch,
            "pytorch-lightning_version": "2.0.2",
            "state_dict": {f"net.{name}": tensor for name, tensor in state_dict.items()},
            "loops": {"fit_loop": {"epoch_progress": {"current": {"completed": epoch}}}},
            "callbacks": {"ModelCheckpoint{'monitor': None}": {"best_model_score": None}},
            "optimizer_states": [],
            "lr_schedulers": [],
            "hparams_name": "kwargs",
            "hyper_parameters": {"opt": options},
        },
        path,
    )
    return path


# baryir's AdaIR name (prefix, regex) -> the authors' (see baryir.models.detect, the inverse)
_ADAIR_NAMES: tuple[tuple[str, str], ...] = (
    (r"encoder\.patch_embed\.", "patch_embed."),
    (r"encoder\.level(\d)\.", r"encoder_level\1."),
    (r"encoder\.down1\.conv\.", "down1_2.body.0."),
    (r"encoder\.down2\.conv\.", "down2_3.body.0."),
    (r"encoder\.down3\.conv\.", "down3_4.body.0."),
    (r"decoder\.level3\.up\.conv\.", "up4_3.body.0."),
    (r"decoder\.level2\.up\.conv\.", "up3_2.body.0."),
    (r"decoder\.level1\.up\.conv\.", "up2_1.body.0."),
    (r"decoder\.level(\d)\.fuse\.", r"reduce_chan_level\1."),
    (r"decoder\.level(\d)\.blocks\.", r"decoder_level\1."),
    (r"decoder\.refinement\.", "refinement."),
    (r"decoder\.output\.", "output."),
    (
        r"decoder\.fre(\d)\.frequency_refine\.channel_gate\.",
        r"fre\1.frequency_refine.ChannelGate.mlp.",
    ),
    (
        r"decoder\.fre(\d)\.frequency_refine\.spatial_gate\.",
        r"fre\1.frequency_refine.SpatialGate.spatial.",
    ),
    (r"decoder\.fre(\d)\.", r"fre\1."),
    (r"latent\.", "latent."),
)


def _authors_name(name: str) -> str:
    for pattern, replacement in _ADAIR_NAMES:
        match = re.match(pattern, name)
        if match is not None:
            rest = re.sub(r"(^|\.)norm([12])\.", r"\1norm\2.body.", name[match.end() :])
            return match.expand(replacement) + rest
    raise ValueError(f"no authors' name for {name}")


def adair_authors_state_dict(
    model: nn.Module, generator: torch.Generator | None = None
) -> dict[str, Tensor]:
    """``model``'s (a :class:`baryir.models.AdaIR`) tensors under the authors' names, plus the
    two convs of each frequency module the authors keep and never use (seeded values)."""
    state = {_authors_name(k): v.detach().clone() for k, v in model.state_dict().items()}
    for i in (1, 2, 3):
        channels = model.state_dict()[f"decoder.fre{i}.conv1.weight"].shape[0]
        state[f"fre{i}.conv.weight"] = torch.randn(channels, 3, 3, 3, generator=generator)
        state[f"fre{i}.score_gen.weight"] = torch.randn(2, 2, 7, 7, generator=generator)
        state[f"fre{i}.score_gen.bias"] = torch.randn(2, generator=generator)
    return state
