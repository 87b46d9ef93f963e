"""Recognise a peer network (NAFNet, AdaIR) and its size from a state dict's names and shapes.

:func:`detect_peer` reads the authors' tensors (already unwrapped by
:func:`baryir.io.checkpoint.load_weights`: BasicSR's ``params_ema``/``params``, Lightning's
``state_dict`` without its ``net.`` prefix) and returns the presets of its class, the constructor
arguments its tensors imply (widths, block counts, heads) and the tensors in baryir's names, so
:func:`baryir.models.load_model` loads any width of these classes without being told which.
NAFNet keeps the authors' names; AdaIR's Restormer part is renamed by
:data:`baryir.models.official.NETWORK_RULES` and its frequency modules by :data:`ADAIR_RULES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from baryir.models.official import INNER_RULES, NETWORK_RULES

__all__ = ["ADAIR_RULES", "Peer", "convert_adair_state_dict", "detect_peer"]

ADAIR_RULES: tuple[tuple[str, str], ...] = (
    (
        r"fre([123])\.frequency_refine\.ChannelGate\.mlp\.",
        r"decoder.fre\1.frequency_refine.channel_gate.",
    ),
    (
        r"fre([123])\.frequency_refine\.SpatialGate\.spatial\.",
        r"decoder.fre\1.frequency_refine.spatial_gate.",
    ),
    (r"fre([123])\.", r"decoder.fre\1."),
)
"""AdaIR's frequency modules (``fre1-3``) -> ours, under ``decoder``."""
ADAIR_UNUSED = re.compile(r"fre[123]\.(conv|score_gen)\.")
"""Two convs of each frequency module that the authors' forward never uses."""


NAFNET_PRESETS = ("nafnet-sidd-32", "nafnet-sidd-64", "nafnet-gopro-64", "nafnet-tiny", "nafnet")
ADAIR_PRESETS = ("adair-tiny", "adair")


@dataclass(frozen=True)
class Peer:
    """A recognised peer: its class's presets (the loader names it after the one whose
    arguments ``config`` are, else the last: the class's own), constructor arguments and
    renamed tensors."""

    presets: tuple[str, ...]
    config: dict[str, Any]
    state_dict: dict[str, Tensor]


def _count(names: list[str], prefix: str) -> int:
    """Number of indexed children ``<prefix><i>.`` (0 when none)."""
    found = {int(m.group(1)) for n in names if (m := re.match(re.escape(prefix) + r"(\d+)\.", n))}
    return max(found) + 1 if found else 0


def _nafnet(state_dict: Mapping[str, Tensor]) -> Peer:
    names = list(state_dict)
    depth = _count(names, "encoders.")
    config = {
        "in_channels": state_dict["intro.weight"].shape[1],
        "width": state_dict["intro.weight"].shape[0],
        "middle_blk_num": _count(names, "middle_blks."),
        "enc_blk_nums": [_count(names, f"encoders.{i}.") for i in range(depth)],
        "dec_blk_nums": [_count(names, f"decoders.{i}.") for i in range(depth)],
    }
    return Peer(NAFNET_PRESETS, config, dict(state_dict))


def _rename(name: str) -> str | None:
    for pattern, replacement in (*ADAIR_RULES, *NETWORK_RULES):
        match = re.match(pattern, name)
        if match is not None:
            rest = name[match.end() :]
            for inner, inner_replacement in INNER_RULES:
                rest = re.sub(inner, inner_replacement, rest)
            return match.expand(replacement) + rest
    return None


def convert_adair_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """AdaIR's released names -> :class:`baryir.models.AdaIR`'s (same tensor objects), without
    the unused ``conv``/``score_gen`` of the frequency modules.

    Raises:
        ValueError: a name matches no rule.
    """
    converted, unmapped = {}, []
    for name, tensor in state_dict.items():
        if ADAIR_UNUSED.match(name):
            continue
        new_name = _rename(name)
        if new_name is None:
            unmapped.append(name)
        else:
            converted[new_name] = tensor
    if unmapped:
        raise ValueError(f"AdaIR: {len(unmapped)} keys match no rule: {unmapped[:10]}")
    return converted


def _adair(state_dict: Mapping[str, Tensor]) -> Peer:
    names = list(state_dict)
    dim = state_dict["patch_embed.proj.weight"].shape[0]
    heads = [
        state_dict[f"{level}.0.attn.temperature"].shape[0]
        for level in ("encoder_level1", "encoder_level2", "encoder_level3", "latent")
    ]
    gdfn = state_dict["latent.0.ffn.project_out.weight"].shape[1]
    config = {
        "in_channels": state_dict["patch_embed.proj.weight"].shape[1],
        "dim": dim,
        "num_blocks": [_count(names, f"encoder_level{i}.") for i in (1, 2, 3)]
        + [_count(names, "latent.")],
        "num_refinement_blocks": _count(names, "refinement."),
        "heads": heads,
        # the hidden width is int(8dim * factor): any factor giving it rebuilds the same shapes
        "ffn_expansion_factor": _factor(gdfn, dim * 8),
    }
    return Peer(ADAIR_PRESETS, config, convert_adair_state_dict(state_dict))


def _factor(hidden: int, channels: int) -> float:
    """A factor ``f`` with ``int(channels * f) == hidden``: 2.66 (the papers') when it fits,
    else ``(hidden + 0.5) / channels`` (``hidden / channels`` may round below ``hidden``)."""
    return 2.66 if int(channels * 2.66) == hidden else (hidden + 0.5) / channels


DETECTORS: tuple[tuple[Callable[[Mapping[str, Tensor]], bool], Callable[..., Peer]], ...] = (
    (lambda sd: {"intro.weight", "ending.weight", "middle_blks.0.beta"} <= set(sd), _nafnet),
    (lambda sd: "fre1.conv1.weight" in sd and "patch_embed.proj.weight" in sd, _adair),
)


def detect_peer(state_dict: Mapping[str, Tensor]) -> Peer | None:
    """The peer network ``state_dict`` holds (authors' names), or ``None`` for none of them."""
    for matches, read in DETECTORS:
        if matches(state_dict):
            return read(state_dict)
    return None
