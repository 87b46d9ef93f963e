"""Load the authors' released checkpoints (BaryNet, PromptIR, dual potentials).

Released parameter names are mapped onto ours by an explicit rules table: each released name
must match exactly one top-level rule (anchored at the start); the rest of the name then goes
through the inner rules (Restormer's ``norm1.body.weight`` -> ``norm1.weight``, PromptIR's
``prompt_param`` / ``linear_layer`` / ``conv3x3`` -> ``prompts`` / ``selector`` / ``conv``).
The six 1x1 convs the released forward never uses (``chnl_reduce1-3``,
``reduce_noise_channel_1-3``) are dropped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from baryir.models.potentials import DualPotentials
from baryir.models.registry import create_model, model_config

__all__ = [
    "NETWORK_RULES",
    "POTENTIAL_RULES",
    "convert_official_checkpoint",
    "convert_official_state_dict",
    "detect_official_arch",
    "extract_state_dict",
    "load_official_checkpoint",
]

logger = logging.getLogger(__name__)

Arch = Literal["barynet", "promptir", "potentials"]
ARCHS: tuple[str, ...] = ("barynet", "promptir", "potentials")
PRESETS: dict[str, str] = {"barynet": "baryir", "promptir": "promptir"}

UNUSED = re.compile(r"(chnl_reduce[123]|reduce_noise_channel_[123])\.")
WRAPPER_KEYS: tuple[str, ...] = ("state_dict", "model", "params")
PREFIXES: tuple[str, ...] = ("module.", "net.")

# Released name prefix (regex, anchored) -> our name prefix. BaryNet and PromptIR share them.
NETWORK_RULES: tuple[tuple[str, str], ...] = (
    (r"patch_embed\.proj\.", "encoder.patch_embed.proj."),
    (r"encoder_level([123])\.", r"encoder.level\1."),
    (r"down1_2\.body\.0\.", "encoder.down1.conv."),
    (r"down2_3\.body\.0\.", "encoder.down2.conv."),
    (r"down3_4\.body\.0\.", "encoder.down3.conv."),
    (r"latent\.", "latent."),
    (r"barylatent\.", "barycenter_map."),
    (r"LN\.body\.", "latent_norm."),
    (r"resreduce_noise_level3\.", "residual_decoder.stage3.reduce."),
    (r"resup4_3\.body\.0\.", "residual_decoder.stage3.up.conv."),
    (r"resreduce_chan_level3\.", "residual_decoder.stage2.proj_in."),
    (r"resdecoder_level3\.", "residual_decoder.stage2.blocks."),
    (r"resreduce_noise_level2\.", "residual_decoder.stage2.reduce."),
    (r"resup3_2\.body\.0\.", "residual_decoder.stage2.up.conv."),
    (r"resreduce_chan_level2\.", "residual_decoder.stage1.proj_in."),
    (r"resdecoder_level2\.", "residual_decoder.stage1.blocks."),
    (r"resreduce_noise_level1\.", "residual_decoder.stage1.reduce."),
    (r"resup2_1\.body\.0\.", "residual_decoder.stage1.up.conv."),
    (r"prompt([123])\.", r"decoder.level\1.transition.prompt."),
    (r"noise_level([123])\.", r"decoder.level\1.transition.block."),
    (r"reduce_noise_level([123])\.", r"decoder.level\1.transition.reduce."),
    (r"up4_3\.body\.0\.", "decoder.level3.up.conv."),
    (r"up3_2\.body\.0\.", "decoder.level2.up.conv."),
    (r"up2_1\.body\.0\.", "decoder.level1.up.conv."),
    (r"reduce_chan_level([123])\.", r"decoder.level\1.fuse."),
    (r"decoder_level([123])\.", r"decoder.level\1.blocks."),
    (r"refinement\.", "decoder.refinement."),
    (r"output\.", "decoder.output."),
)
POTENTIAL_RULES: tuple[tuple[str, str], ...] = (
    (r"potentials\.(\d+)\.0\.", r"potentials.\1.conv."),
    (r"potentials\.(\d+)\.3\.", r"potentials.\1.fc1."),
    (r"potentials\.(\d+)\.4\.", r"potentials.\1.fc2."),
    (r"potentials\.(\d+)\.6\.", r"potentials.\1.fc3."),
)
# Applied to the rest of a name, after its top-level rule.
INNER_RULES: tuple[tuple[str, str], ...] = (
    (r"(^|\.)norm([12])\.body\.", r"\1norm\2."),
    (r"^prompt_param$", "prompts"),
    (r"^linear_layer\.", "selector."),
    (r"^conv3x3\.", "conv."),
)


def extract_state_dict(checkpoint: Mapping[str, Any]) -> dict[str, Tensor]:
    """The tensors of a released checkpoint: unwraps ``state_dict``/``model``/``params`` and
    strips ``module.`` / ``net.`` prefixes."""
    for key in WRAPPER_KEYS:
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    state_dict = {}
    for name, value in checkpoint.items():
        if not isinstance(value, Tensor):
            continue
        while name.startswith(PREFIXES):
            name = name.split(".", 1)[1]
        state_dict[name] = value
    if not state_dict:
        raise ValueError("extract_state_dict: the checkpoint holds no tensors")
    return state_dict


def detect_official_arch(state_dict: Mapping[str, Tensor]) -> Arch:
    """Recognise a released state dict: ``barylatent.*`` -> barynet, ``prompt3.*`` -> promptir,
    only ``potentials.*`` -> potentials."""
    names = list(state_dict)
    if any(n.startswith("barylatent.") for n in names):
        return "barynet"
    if any(n.startswith("prompt3.") for n in names):
        return "promptir"
    if names and all(n.startswith("potentials.") for n in names):
        return "potentials"
    raise ValueError(
        f"detect_official_arch: not a released BaryNet/PromptIR/potentials state dict "
        f"(first keys: {names[:5]}); pass arch= one of {list(ARCHS)}"
    )


def _map_name(name: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    for pattern, replacement in rules:
        match = re.match(pattern, name)
        if match is not None:
            rest = name[match.end() :]
            for inner, inner_replacement in INNER_RULES:
                rest = re.sub(inner, inner_replacement, rest)
            return match.expand(replacement) + rest
    return None


def convert_official_state_dict(
    state_dict: Mapping[str, Any], arch: Arch | None = None
) -> dict[str, Tensor]:
    """Rename a released state dict to ours.

    Args:
        state_dict: released tensors (or a checkpoint wrapping them, see
            :func:`extract_state_dict`).
        arch: "barynet", "promptir" or "potentials"; recognised from the names when ``None``.
            Keys of the other part (network vs ``potentials.*``) of a combined checkpoint are
            left out.

    Returns:
        the renamed tensors (same objects), without the six unused convs.
    """
    state_dict = extract_state_dict(state_dict)
    arch = arch if arch is not None else detect_official_arch(state_dict)
    if arch not in ARCHS:
        raise ValueError(
            f"convert_official_state_dict: arch must be one of {list(ARCHS)}, got {arch!r}"
        )
    is_potentials = arch == "potentials"
    rules = POTENTIAL_RULES if is_potentials else NETWORK_RULES
    converted: dict[str, Tensor] = {}
    unmapped = []
    for name, tensor in state_dict.items():
        if name.startswith("potentials.") != is_potentials:
            logger.info("convert_official_state_dict: %s is not part of %s, left out", name, arch)
            continue
        if UNUSED.match(name):
            continue
        new_name = _map_name(name, rules)
        if new_name is None:
            unmapped.append(name)
        else:
            converted[new_name] = tensor
    if unmapped:
        raise ValueError(
            f"convert_official_state_dict({arch}): {len(unmapped)} released keys match no rule: "
            f"{unmapped[:10]}"
        )
    return converted


def _build_model(arch: Arch, state_dict: Mapping[str, Tensor]) -> nn.Module:
    if arch != "potentials":
        return create_model(PRESETS[arch])
    if "potentials.0.conv.weight" not in state_dict or "potentials.0.fc1.weight" not in state_dict:
        raise ValueError("load_official_checkpoint: potentials.0.0/3 weights not found")
    indices = {int(name.split(".")[1]) for name in state_dict}
    channels = state_dict["potentials.0.conv.weight"].shape[0]
    side = math.isqrt(state_dict["potentials.0.fc1.weight"].shape[1] // channels)
    return DualPotentials(len(indices), channels=channels, patch_size=32 * side)


def _load_strict(model: nn.Module, state_dict: Mapping[str, Tensor], source: str) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = sorted(
        f"{k}: {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(state_dict)
        if state_dict[k].shape != own[k].shape
    )
    if missing or unexpected or shapes:
        raise ValueError(
            f"{source}: does not fit {type(model).__name__}: missing {missing}, "
            f"unexpected {unexpected}, shape mismatches {shapes}"
        )
    model.load_state_dict(state_dict, strict=True)


def load_official_checkpoint(path: str | Path, arch: Arch | None = None) -> nn.Module:
    """Build our model from a released checkpoint file.

    Args:
        path: a ``.pth``/``.pt`` file (raw state dict or wrapped, see
            :func:`extract_state_dict`), read with ``weights_only=True``.
        arch: "barynet" (-> preset ``baryir``), "promptir" (-> ``promptir``) or "potentials"
            (-> :class:`DualPotentials`, adaptive pooling); recognised when ``None``.

    Returns:
        the model with the released weights loaded strictly.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_official_checkpoint: no file at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"load_official_checkpoint: cannot read {path} as weights: {error}"
        ) from error
    if not isinstance(checkpoint, Mapping):
        raise ValueError(
            f"load_official_checkpoint: {path} holds a {type(checkpoint).__name__}, "
            "not a state dict"
        )
    state_dict = extract_state_dict(checkpoint)
    arch = arch if arch is not None else detect_official_arch(state_dict)
    converted = convert_official_state_dict(state_dict, arch)
    model = _build_model(arch, converted)
    _load_strict(model, converted, f"load_official_checkpoint({path})")
    return model


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def convert_official_checkpoint(src: str | Path, dst: str | Path, arch: Arch | None = None) -> Path:
    """Convert a released checkpoint to a safetensors file plus a JSON sidecar.

    ``dst`` gets our state dict (safetensors); ``dst`` with suffix ``.json`` gets
    ``{"model": preset, "config": constructor args}`` (preset ``baryir``/``promptir``, or
    ``potentials`` for :class:`DualPotentials`). Both are written atomically.

    Returns:
        ``dst`` as a ``Path``.
    """
    from safetensors.torch import save_file

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    model = load_official_checkpoint(src, arch)
    name = (
        "potentials"
        if isinstance(model, DualPotentials)
        else PRESETS["barynet" if model.has_barycenter else "promptir"]
    )
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    sidecar = json.dumps({"model": name, "config": model_config(model)}, indent=2)

    def write_json(tmp: str) -> None:
        Path(tmp).write_text(sidecar + "\n", encoding="utf-8")

    _atomic_write(dst, lambda tmp: save_file(tensors, tmp))
    _atomic_write(dst.with_suffix(".json"), write_json)
    return dst
