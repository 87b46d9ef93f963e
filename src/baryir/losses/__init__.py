"""Losses of BaryIR: one concept a file, each a function (the maths) and a module."""

from .contrastive import ResidualContrastLoss, residual_contrast_loss
from .cost import TransportCost, transport_cost
from .objective import BaryIRObjective, ObjectiveConfig, WBSolver
from .orthogonality import OrthogonalityLoss, orthogonality_loss
from .pixel import PixelLoss, charbonnier_loss, pixel_loss
from .potentials import (
    CongruencePenalty,
    PotentialNetworkTerm,
    PotentialsStepLoss,
    congruence_penalty,
    potential_network_term,
    potentials_step_loss,
)
from .sinkhorn import AlignmentResult, SinkhornAlignment, resolve_backend, sinkhorn_alignment

__all__ = [
    "AlignmentResult",
    "BaryIRObjective",
    "CongruencePenalty",
    "ObjectiveConfig",
    "OrthogonalityLoss",
    "PixelLoss",
    "PotentialNetworkTerm",
    "PotentialsStepLoss",
    "ResidualContrastLoss",
    "SinkhornAlignment",
    "TransportCost",
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
