"""Mixtures of degradations, the spec-string builder and stable per-file seeds."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange
from baryir.degradations.registry import available_degradations, degradation_entry
from baryir.specs import parse_degradation, parse_range

__all__ = [
    "Compose",
    "available_degradations",
    "build_degradation",
    "generator_for",
    "seed_from_name",
]


class Compose(Degradation):
    """Apply ``degradations`` in order (a mixture such as noise then JPEG).

    ``name`` joins the parts with ``+``. Parameters of part ``i`` are keyed ``"{i}.{key}"`` in
    :meth:`sample_params`; :meth:`params` keys them ``"{part name}.{key}"`` (``"{name}#{i}"``
    when a name repeats). Parts draw their parameters in order, then their random fields.
    """

    def __init__(self, degradations: Sequence[Degradation]) -> None:
        if not degradations or not all(isinstance(d, Degradation) for d in degradations):
            raise ValueError("Compose needs a non-empty list of Degradation objects")
        self.degradations = list(degradations)
        self.name = "+".join(d.name for d in self.degradations)

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for i, part in enumerate(self.degradations):
            params = part.sample_params(batch, generator, like)
            out.update({f"{i}.{key}": value for key, value in params.items()})
        return out

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        for i, part in enumerate(self.degradations):
            prefix = f"{i}."
            own = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
            image = part.apply(image, own, generator)
        return image

    def params(self) -> dict[str, float | int | str]:
        names = [d.name for d in self.degradations]
        out: dict[str, float | int | str] = {}
        for i, part in enumerate(self.degradations):
            label = part.name if names.count(part.name) == 1 else f"{part.name}#{i}"
            out.update({f"{label}.{key}": value for key, value in part.params().items()})
        return out

    def __repr__(self) -> str:
        return f"Compose({self.degradations!r})"


def build_degradation(spec: str) -> Degradation:
    """Build a degradation from a spec string such as ``"noise:25"`` or ``"noise:15-50+jpeg:30"``.

    Grammar (:mod:`baryir.specs`, where it is parsed): parts joined by ``+`` (a
    :class:`Compose`, applied left to right), a bare number being a noise sigma; each part is
    ``name`` or ``name:arg``, ``name`` one of :func:`available_degradations`, each registered
    with its class (:func:`~baryir.degradations.registry.register_degradation`). ``name:N`` or
    ``name:MIN-MAX`` (drawn per image) sets the one argument the class registers (``noise:SIGMA``
    in 0..255 units, ``jpeg:QUALITY``, ...); ``rain:LEVEL`` takes a level (light/medium/heavy);
    ``clean`` (the identity) takes no argument. Without an argument the class defaults apply;
    each class documents its argument's allowed range and default.
    """
    built = [_build_part(part.name, part.arg, spec) for part in parse_degradation(spec)]
    return built[0] if len(built) == 1 else Compose(built)


def _build_part(name: str, arg: str | None, spec: str) -> Degradation:
    """One ``name[:arg]`` part of ``spec``, as its registry entry says."""
    if name not in available_degradations():
        valid = ", ".join(available_degradations())
        raise ValueError(f"unknown degradation {name!r} in spec {spec!r}; valid: {valid}")
    entry = degradation_entry(name)
    if arg is None:
        return entry.cls()
    if entry.levels is not None:
        if arg not in entry.levels:
            valid = ", ".join(entry.levels)
            raise ValueError(
                f"bad {name} level {arg!r} in degradation spec {spec!r}; valid: {valid}"
            )
        return entry.cls(**entry.levels[arg])
    if entry.argument is None:
        raise ValueError(f"{name!r} takes no argument in degradation spec {spec!r}")
    value: ParamRange = parse_range(arg, spec)
    try:
        return entry.cls(**{entry.argument: value})
    except ValueError as exc:
        raise ValueError(f"{exc} (in degradation spec {spec!r})") from None


def seed_from_name(name: str, seed: int = 0) -> int:
    """A 63-bit seed from ``sha256(f"{seed}:{name}")``: stable across machines and Python runs."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def generator_for(name: str, seed: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with :func:`seed_from_name` ``(name, seed)``."""
    return torch.Generator(device=device).manual_seed(seed_from_name(name, seed))
