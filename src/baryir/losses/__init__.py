"""Losses of BaryIR: one concept a file, each a function (the maths); the objective
(:class:`BaryIRObjective`) and the Sinkhorn alignment are the modules that hold state."""

from .contrastive import residual_contrast_loss
from .cost import transport_cost
from .objective import BaryIRObjective, ObjectiveConfig, WBSolver
from .orthogonality import orthogonality_loss
from .pixel import charbonnier_loss, pixel_loss
from .potentials import (
    congruence_penalty,
    potential_network_term,
    potentials_step_loss,
)
from .sinkhorn import AlignmentResult, SinkhornAlignment, resolve_backend, sinkhorn_alignment

__all__ = [
    "AlignmentResult",
    "BaryIRObjective",
    "ObjectiveConfig",
    "SinkhornAlignment",
    "WBSolver",
    "charbonnier_loss",
    "congruence_penalty",
    "orthogonality_loss",
    "pixel_loss",
    "potential_network_term",
    "potentials_step_loss",
    "residual_contrast_loss",
    "resolve_backend",
    "sinkhorn_alignment",
    "transport_cost",
]
