"""Inference precision: fp32, bf16 where the hardware computes bf16 natively, or ``auto``.

``auto`` (the default of ``baryir restore``, the app and ``baryir export``) is bf16 on a CPU
whose flags name native bf16 dot products (AMX-BF16 or AVX-512 BF16) or a CUDA device that
supports bf16, and fp32 elsewhere. The evaluation protocol (``test``, ``suite``, ``compare``)
stays fp32.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import torch

__all__ = [
    "BF16_CPU_FLAGS",
    "Precision",
    "autocast_for",
    "bf16_cpu_flags",
    "cpu_flags",
    "describe_precision",
    "native_bf16",
    "resolve_precision",
]

log = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]

BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
"""``/proc/cpuinfo`` flags of native bf16 dot products (Intel Cooper Lake and Sapphire Rapids
on, AMD Zen 4 on); without one, oneDNN emulates bf16 and it is slower than fp32."""


def bf16_cpu_flags(flags: Iterable[str]) -> list[str]:
    """The native-bf16 flags among a CPU's ``flags`` (empty: no native bf16)."""
    present = set(flags)
    return [flag for flag in BF16_CPU_FLAGS if flag in present]


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str] | None:
    """The first ``flags`` line of ``cpuinfo``, split; ``None`` where there is no such file."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return value.split()
    return []


def _cpu_bf16_flags() -> list[str]:
    """This CPU's native-bf16 flags: from ``/proc/cpuinfo``, or torch's cpuinfo probes where the
    system has no such file (macOS, Windows)."""
    flags = cpu_flags()
    if flags is not None:
        return bf16_cpu_flags(flags)
    probes = {"amx_bf16": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported"}
    return [flag for flag, probe in probes.items() if getattr(torch.cpu, probe, lambda: False)()]


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bf16 matrix products natively.

    CPU: one of :data:`BF16_CPU_FLAGS` among the CPU's flags. CUDA:
    ``torch.cuda.is_bf16_supported()`` (Ampere and later).
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return bool(_cpu_bf16_flags())
    return False


def resolve_precision(precision: Precision, device: torch.device | str) -> Literal["fp32", "bf16"]:
    """``precision`` with ``"auto"`` decided for ``device``: bf16 where it is native, else fp32.

    Raises:
        ValueError: ``precision`` is not ``"auto"``, ``"fp32"`` or ``"bf16"``.
    """
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def describe_precision(precision: Precision, device: torch.device | str) -> str:
    """One line saying which precision runs on ``device`` and why, e.g. ``precision: bf16 (auto:
    cpu has avx512_bf16)``."""
    device = torch.device(device)
    chosen = resolve_precision(precision, device)
    if precision != "auto":
        return f"precision: {chosen}"
    if device.type == "cpu":
        flags = _cpu_bf16_flags()
        why = f"cpu has {', '.join(flags)}" if flags else "cpu has no amx_bf16 or avx512_bf16"
    elif chosen == "bf16":
        why = f"{device} supports bf16"
    else:
        why = f"{device} has no native bf16"
    return f"precision: {chosen} (auto: {why})"


def autocast_for(
    precision: Precision, device: torch.device | str
) -> contextlib.AbstractContextManager:
    """The context to run a network in: bf16 autocast, or nothing (fp32).

    ``"auto"`` is :func:`resolve_precision`'s choice. An explicit ``"bf16"`` on a device without
    native bf16 logs one warning and runs fp32 (emulated bf16 would be slower and no more
    accurate).

    Raises:
        ValueError: ``precision`` is not ``"auto"``, ``"fp32"`` or ``"bf16"``.
    """
    device = torch.device(device)
    if resolve_precision(precision, device) == "fp32":
        return contextlib.nullcontext()
    if not native_bf16(device):
        log.warning(
            "bf16 requested but %s has no native bf16 (AMX/AVX-512 BF16): using fp32", device
        )
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
