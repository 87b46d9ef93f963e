"""The authors' released checkpoints (BaryNet, PromptIR, dual potentials) in our parameter names.

Pure functions on state dicts, no file IO: :func:`baryir.models.load_model` reads a released
``.pth`` (``weights_only=True``), recognises it (:func:`detect_official_arch`) and renames it here.

Released parameter names are mapped onto ours by an explicit rules table: each released name
must match exactly one top-level rule (anchored at the start); the rest of the name then goes
through the inner rules (Restormer's ``norm1.body.weight`` -> ``norm1.weight``, PromptIR's
``prompt_param`` / ``linear_layer`` / ``conv3x3`` -> ``prompts`` / ``selector`` / ``conv``).
The six 1x1 convs the released forward never uses (``chnl_reduce1-3``,
``reduce_noise_channel_1-3``) are dropped.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from torch import Tensor

from baryir.io.checkpoint import unwrap_state_dict

__all__ = [
    "ARCHS",
    "NETWORK_RULES",
    "POTENTIAL_RULES",
    "RELEASED_PRESETS",
    "convert_official_state_dict",
    "detect_official_arch",
    "potentials_config",
]

logger = logging.getLogger(__name__)

Arch = Literal["barynet", "promptir", "potentials"]
ARCHS: tuple[str, ...] = ("barynet", "promptir", "potentials")
RELEASED_PRESETS: dict[str, str] = {"barynet": "baryir", "promptir": "promptir"}
"""Released architecture -> the registry preset that builds it (the potentials are not a
preset). Not the registry itself: see :func:`baryir.models.list_models`."""

UNUSED = re.compile(r"(chnl_reduce[123]|reduce_noise_channel_[123])\.")

# Released name prefix (regex, anchored) -> our name prefix. BaryNet and PromptIR share them.
NETWORK_RULES: tuple[tuple[str, str], ...] = (
    (r"patch_embed\.proj\.", "encoder.patch_embed.proj."),
    (r"encoder_level([123])\.", r"encoder.level\1."),
    (r"down1_2\.body\.0\.", "encoder.down1.conv."),
    (r"down2_3\.body\.0\.", "encoder.down2.conv."),
    (r"down3_4\.body\.0\.", "encoder.down3.conv."),
    (r"latent\.", "latent."),
    (r"barylatent\.", "head.barycenter_map."),
    (r"LN\.body\.", "head.latent_norm."),
    (r"resreduce_noise_level3\.", "head.residual_decoder.0.reduce."),
    (r"resup4_3\.body\.0\.", "head.residual_decoder.0.up.conv."),
    (r"resreduce_chan_level3\.", "head.residual_decoder.1.proj_in."),
    (r"resdecoder_level3\.", "head.residual_decoder.1.blocks."),
    (r"resreduce_noise_level2\.", "head.residual_decoder.1.reduce."),
    (r"resup3_2\.body\.0\.", "head.residual_decoder.1.up.conv."),
    (r"resreduce_chan_level2\.", "head.residual_decoder.2.proj_in."),
    (r"resdecoder_level2\.", "head.residual_decoder.2.blocks."),
    (r"resreduce_noise_level1\.", "head.residual_decoder.2.reduce."),
    (r"resup2_1\.body\.0\.", "head.residual_decoder.2.up.conv."),
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


def detect_official_arch(state_dict: Mapping[str, Tensor]) -> Arch:
    """Recognise a released state dict: ``barylatent.*`` -> barynet, ``prompt3.*`` -> promptir,
    only ``potentials.<i>.<layer index>.*`` -> potentials (ours say ``conv``/``fc1``...)."""
    names = list(state_dict)
    if any(n.startswith("barylatent.") for n in names):
        return "barynet"
    if any(n.startswith("prompt3.") for n in names):
        return "promptir"
    if names and all(re.match(r"potentials\.\d+\.\d+\.", n) for n in names):
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
            :func:`baryir.io.checkpoint.unwrap_state_dict`).
        arch: "barynet", "promptir" or "potentials"; recognised from the names when ``None``.
            Keys of the other part (network vs ``potentials.*``) of a combined checkpoint are
            left out.

    Returns:
        the renamed tensors (same objects), without the six unused convs.
    """
    state_dict = unwrap_state_dict(state_dict, "the released state dict")
    arch = arch if arch is not None else detect_official_arch(state_dict)
    if arch not in ARCHS:
        raise ValueError(
            f"convert_official_state_dict: arch must be one of {list(ARCHS)}, got {arch!r}"
        )
    is_potentials = arch == "potentials"
    rules = POTENTIAL_RULES if is_potentials else NETWORK_RULES
    converted: dict[str, Tensor] = {}
    unmapped, other_part = [], []
    for name, tensor in state_dict.items():
        if name.startswith("potentials.") != is_potentials:
            other_part.append(name)
            continue
        if UNUSED.match(name):
            continue
        new_name = _map_name(name, rules)
        if new_name is None:
            unmapped.append(name)
        else:
            converted[new_name] = tensor
    if other_part:
        logger.info(
            "convert_official_state_dict: %d tensors are not part of %s (%s ...), left out",
            len(other_part),
            arch,
            other_part[0],
        )
    if unmapped:
        raise ValueError(
            f"convert_official_state_dict({arch}): {len(unmapped)} released keys match no rule: "
            f"{unmapped[:10]}"
        )
    return converted


def potentials_config(state_dict: Mapping[str, Tensor]) -> dict[str, Any]:
    """:class:`~baryir.models.DualPotentials` arguments that fit converted potentials weights.

    The number of potentials and the channels come from the tensors, the training patch size
    from ``fc1``'s input size (adaptive pooling, so any patch size works at inference).
    """
    if "potentials.0.conv.weight" not in state_dict or "potentials.0.fc1.weight" not in state_dict:
        raise ValueError("potentials_config: potentials.0.0/3 weights not found")
    indices = {int(name.split(".")[1]) for name in state_dict}
    channels = state_dict["potentials.0.conv.weight"].shape[0]
    side = math.isqrt(state_dict["potentials.0.fc1.weight"].shape[1] // channels)
    return {"num_potentials": len(indices), "channels": channels, "patch_size": 32 * side}
