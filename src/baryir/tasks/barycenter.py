"""The BaryIR objective as a component of the task: the barycenter terms of a network step, the
dual potentials with their own update, and the global-batch gathering under DDP.

:class:`~baryir.tasks.RestorationTask` is given one (``model.objective`` in YAML, a
:class:`BarycenterConfig`) and asks it for the network's extra terms (:meth:`network_terms`)
and, after the network's update, for the potentials' (:meth:`potentials_step`). A network
without a barycenter (``has_barycenter`` False) gets none: the task then trains on the pixel
term alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from baryir.losses import BaryIRObjective, ObjectiveConfig
from baryir.models import DualPotentials
from baryir.tasks.guard import TrainingGuard

__all__ = ["BarycenterAlignment", "BarycenterConfig"]

Gather = Callable[[dict[str, Tensor]], dict[str, Tensor]]
"""All-gathers a dict of ``(B, ...)`` tensors across DDP ranks, with gradients (``(R B, ...)``)."""


@dataclass
class StepContext:
    """What a potentials step needs of the task's step: its index, the guard and the network
    update's flag (``bad``), and the DDP collectives (None on one process)."""

    step: int
    guard: TrainingGuard
    bad: Tensor | None
    gather: Gather | None
    reduce: Callable[[Tensor], Tensor] | None


@dataclass(frozen=True)
class BarycenterConfig(ObjectiveConfig):
    """The BaryIR objective of a training run: :class:`~baryir.losses.ObjectiveConfig` (solver
    and weights, the paper's by default) plus how the task trains it.

    Args:
        potentials_pooling: ``adaptive`` (any patch size) or ``released`` (released shapes).
        potentials_patch_size: training patch size the potentials' flatten is sized for.
        potentials_recompute: recompute ``b`` with the updated network for the potentials step
            (the release; one extra forward) instead of reusing the detached ``b`` (default).
        gather_global_batch: under DDP, compute the barycenter terms on the all-gathered
            global batch (with gradients), so 2 ranks x B equals 1 rank x 2B.
    """

    potentials_pooling: Literal["adaptive", "released"] = "adaptive"
    potentials_patch_size: int = 128
    potentials_recompute: bool = False
    gather_global_batch: bool = True


class BarycenterAlignment(nn.Module):
    """The barycenter terms (:class:`~baryir.losses.BaryIRObjective`) and, with
    ``wb_solver="potentials"``, the dual potentials (:attr:`potentials`) trained by their own
    optimiser.

    Args:
        config: the objective (:class:`BarycenterConfig`).
        num_sources: number of degradation sources K (one potential each).
        latent_channels: channels of the network's ``b``.
    """

    def __init__(self, config: BarycenterConfig, num_sources: int, latent_channels: int) -> None:
        super().__init__()
        self.config = config
        self.objective = BaryIRObjective(config)
        self.potentials: DualPotentials | None = None
        if config.wb_solver == "potentials":
            self.potentials = DualPotentials(
                num_potentials=num_sources,
                channels=latent_channels,
                patch_size=config.potentials_patch_size,
                pooling=config.potentials_pooling,
            )

    @property
    def alignment_term(self) -> str | None:
        """The term that aligns the sources' ``b`` (``sinkhorn``, ``potential`` or None)."""
        return {"sinkhorn": "sinkhorn", "potentials": "potential"}.get(self.config.wb_solver)

    def gather(self, tensors: dict[str, Tensor], gather: Gather | None) -> dict[str, Tensor]:
        """``tensors`` over the global batch (``gather_global_batch`` under DDP) or as given."""
        return (
            gather(tensors) if gather is not None and self.config.gather_global_batch else tensors
        )

    def network_terms(
        self, out: Any, batch: dict[str, Any], source_weights: Tensor, gather: Gather | None
    ) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Tensor]]:
        """The network step's barycenter terms: ``(weighted, terms, embeddings)``, the
        embeddings (``z``, ``b``, ``r``, labels; global under DDP) kept for
        :meth:`potentials_step`."""
        embeddings = self.gather(
            {
                "degradation": batch["degradation"],
                "source": batch["source"],
                "z": out.source_latent,
                "b": out.barycenter,
                "r": out.residual,
            },
            gather,
        )
        weighted, terms = self.objective.weighted_terms(
            source_latent=embeddings["z"],
            barycenter=embeddings["b"],
            residual=embeddings["r"],
            degradation=embeddings["degradation"],
            source=embeddings["source"],
            source_weights=source_weights,
            potentials=self.potentials,
        )
        return weighted, terms, embeddings

    def potentials_step(
        self,
        optimizer: torch.optim.Optimizer,
        network: nn.Module,
        batch: dict[str, Any],
        embeddings: dict[str, Tensor],
        source_weights: Tensor,
        context: StepContext,
    ) -> tuple[dict[str, Tensor], Tensor | None]:
        """One update of the potentials on the detached ``b`` (the network step's, or
        recomputed by the updated ``network`` with ``potentials_recompute``), skipped with the
        network's (``context.bad``). Returns its terms (none when the immediate guard skipped
        it) and the step's flag."""
        assert self.potentials is not None
        if self.config.potentials_recompute:
            with torch.no_grad():
                recomputed = {"b": network(batch["input"]).barycenter}
                barycenter = self.gather(recomputed, context.gather)["b"]
        else:
            barycenter = embeddings["b"].detach()
        loss, terms = self.objective.potentials_loss(
            self.potentials, barycenter, embeddings["source"], source_weights
        )
        params = [p for p in self.potentials.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params)
        own, drop = context.guard.inspect("potentials ", context.step, loss, grads)
        bad = own if context.bad is None or own is None else context.bad | own
        if drop:
            return {}, bad
        if context.reduce is not None:
            grads = [context.reduce(g) for g in grads]
        for param, grad in zip(params, grads, strict=False):
            param.grad = grad
        context.guard.step(optimizer, bad, optimizer.step)
        optimizer.zero_grad()
        return terms, bad
