"""Inference precision: fp32, or bf16 autocast where the hardware computes bf16 natively."""

from __future__ import annotations

import contextlib
import logging
from typing import Literal

import torch

__all__ = ["Precision", "autocast_for", "native_bf16"]

log = logging.getLogger(__name__)

Precision = Literal["fp32", "bf16"]


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bf16 matrix products natively.

    CPU: AMX tiles or AVX-512 BF16 (Intel Xeon since Cooper Lake / Sapphire Rapids, AMD Zen 4),
    as detected by torch's cpuinfo; without them bf16 is emulated and slower than fp32. CUDA:
    ``torch.cuda.is_bf16_supported()`` (Ampere and later).
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in probes)
    return False


def autocast_for(
    precision: Precision, device: torch.device | str
) -> contextlib.AbstractContextManager:
    """The context to run a network in: bf16 autocast, or nothing (fp32).

    ``"bf16"`` on a device without native bf16 logs one warning and runs fp32 (emulated bf16
    would be slower and no more accurate).

    Raises:
        ValueError: ``precision`` is not ``"fp32"`` or ``"bf16"``.
    """
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    device = torch.device(device)
    if precision == "fp32":
        return contextlib.nullcontext()
    if not native_bf16(device):
        log.warning(
            "bf16 requested but %s has no native bf16 (AMX/AVX-512 BF16): using fp32", device
        )
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
