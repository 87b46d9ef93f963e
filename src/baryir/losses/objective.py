"""The Wasserstein-barycenter part of the BaryIR objective: a weighted sum of its terms plus a
per-term dict for logging (the task adds the pixel term)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from torch import Tensor, nn

from .contrastive import residual_contrast_loss
from .cost import transport_cost
from .orthogonality import orthogonality_loss
from .potentials import Potentials, congruence_penalty, potential_network_term, potentials_step_loss
from .sinkhorn import SinkhornAlignment

__all__ = ["BaryIRObjective", "ObjectiveConfig", "WBSolver", "sum_terms"]

WBSolver = Literal["sinkhorn", "potentials", "none"]
"""Barycenter solver: the paper's dual ``potentials``, GeomLoss ``sinkhorn`` or ``none``."""


def sum_terms(weighted: dict[str, Tensor]) -> Tensor:
    """The total loss: the weighted terms added in their order (pixel first)."""
    parts = iter(weighted.values())
    total = next(parts)
    for part in parts:
        total = total + part
    return total


@dataclass(frozen=True)
class ObjectiveConfig:
    r"""The solver and weights of the barycenter objective, with the paper's values as defaults.

    The one place they are defined: :class:`BaryIRObjective` reads them, and the task's
    objective component (:class:`~baryir.tasks.barycenter.BarycenterConfig`, ``model.objective``
    in YAML) extends them.

    Args:
        wb_solver: ``sinkhorn`` (GeomLoss Sinkhorn divergences between the sources' barycenter
            clouds), ``potentials`` (the paper's dual potentials) or ``none`` (ablation).
        transport_weight: :math:`\alpha_c`, weight of the transport cost c(z, b) (paper: 1).
        potential_weight: :math:`\alpha_f`, weight of the potentials term -f_k(b) (paper: 1).
        orthogonality_weight: :math:`\gamma_o`, barycenter/residual orthogonality (paper: 0.05).
        contrast_weight: :math:`\gamma_q`, residual contrast (paper: 0.05).
        temperature: InfoNCE temperature of the residual contrast (paper: 0.07).
        sinkhorn_weight: :math:`\alpha_s`, weight of the Sinkhorn alignment between sources.
        congruence_weight: weight of the congruence penalty on the potentials (paper: 10).
        squared_cost: mean((z - b)^2) instead of the paper's root-mean-square cost.
        sinkhorn_points: ``tokens`` (bottleneck tokens) or ``pooled`` (one vector per image).
        sinkhorn_num_points: tokens kept per source (random subsample).
        sinkhorn_blur: GeomLoss blur (entropic scale) of the Sinkhorn divergence.
        sinkhorn_scaling: GeomLoss epsilon-scaling factor.
        sinkhorn_backend: ``auto`` (KeOps on CUDA when it works, tensorized otherwise).
        sinkhorn_normalize: L2-normalise the points before the Sinkhorn divergence.
    """

    wb_solver: WBSolver = "sinkhorn"
    transport_weight: float = 1.0
    potential_weight: float = 1.0
    orthogonality_weight: float = 0.05
    contrast_weight: float = 0.05
    temperature: float = 0.07
    sinkhorn_weight: float = 1.0
    congruence_weight: float = 10.0
    squared_cost: bool = False
    sinkhorn_points: Literal["tokens", "pooled"] = "tokens"
    sinkhorn_num_points: int = 256
    sinkhorn_blur: float = 0.05
    sinkhorn_scaling: float = 0.5
    sinkhorn_backend: Literal["auto", "tensorized", "online"] = "auto"
    sinkhorn_normalize: bool = False

    def __post_init__(self) -> None:
        if self.wb_solver not in ("sinkhorn", "potentials", "none"):
            raise ValueError(
                "BaryIRObjective: wb_solver must be 'sinkhorn', 'potentials' or 'none', "
                f"got {self.wb_solver!r}"
            )
        if self.temperature <= 0:
            raise ValueError(f"BaryIRObjective: temperature must be > 0, got {self.temperature}")

    @classmethod
    def parse(cls, value: ObjectiveConfig | dict[str, Any] | None) -> Any:
        """``value`` itself, the defaults for ``None``, or a mapping (a checkpoint's
        hyper-parameters) checked field by field."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        unknown = sorted(set(value) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(
                f"objective: unknown field(s) {unknown}; known: {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**value)

    def to_dict(self) -> dict[str, Any]:
        """The fields as primitives (what a checkpoint stores)."""
        return asdict(self)


class BaryIRObjective(nn.Module):
    r"""Barycenter loss of BaryIR (BARYIR.md section 3) with a choice of solver.

    On a batch of ``B`` samples, sample ``i`` from source ``k(i)``, with
    :math:`w_i = \lambda_{k(i)}`:

    .. math::

        L_{WB} = \frac1B \sum_i w_i \big( \alpha_c c_i + \gamma_o o_i + \gamma_q q_i
            - \alpha_f f_{k(i)}(b_i) \big) + \alpha_s A

    with :math:`c_i` the transport cost (:func:`~baryir.losses.cost.transport_cost`),
    :math:`o_i` the orthogonality (:func:`~baryir.losses.orthogonality.orthogonality_loss`),
    :math:`q_i` the residual contrast on the fine degradation labels
    (:func:`~baryir.losses.contrastive.residual_contrast_loss`) and :math:`A` the Sinkhorn
    alignment (:class:`~baryir.losses.sinkhorn.SinkhornAlignment`). The paper's loss is
    :math:`S \cdot \operatorname{mean}|\hat x - x| + L_{WB}` (the task adds the pixel term).
    Per ``wb_solver``:

    * ``"potentials"`` (paper): the :math:`f` term, no :math:`A`; logs ``transport,
      orthogonality, contrast, potential``.
    * ``"sinkhorn"``: :math:`A`, no :math:`f` term; logs ``transport, orthogonality, contrast,
      sinkhorn``.
    * ``"none"``: neither transport nor :math:`f` nor :math:`A`; logs ``orthogonality,
      contrast``.

    The logged values are detached and unweighted by the scalar weights (``transport`` is
    :math:`\frac1B\sum_i w_i c_i`, ``potential`` is :func:`potential_network_term`, i.e.
    :math:`-\frac1B\sum_i w_i f_{k(i)}(b_i)`).

    Args:
        config: the solver, weights and settings (:class:`ObjectiveConfig`; default: the
            paper's weights).
        **fields: :class:`ObjectiveConfig` fields that replace ``config``'s.

    Example:
        >>> objective = BaryIRObjective(wb_solver="sinkhorn", sinkhorn_points="pooled")
        >>> z, b = torch.randn(4, 16, 1, 1), torch.randn(4, 16, 1, 1)
        >>> total, terms = objective(
        ...     z, b, degradation=torch.tensor([0, 1, 3, 3]),
        ...     source=torch.tensor([0, 0, 1, 1]), source_weights=torch.tensor([0.5, 0.5]))
        >>> sorted(terms)
        ['contrast', 'orthogonality', 'sinkhorn', 'transport']
    """

    def __init__(self, config: ObjectiveConfig | None = None, **fields: Any) -> None:
        super().__init__()
        config = config if isinstance(config, ObjectiveConfig) else ObjectiveConfig.parse(config)
        self.config = replace(config, **fields) if fields else config
        self.wb_solver = self.config.wb_solver
        self.alignment = (
            SinkhornAlignment(
                points=self.config.sinkhorn_points,
                num_points=self.config.sinkhorn_num_points,
                blur=self.config.sinkhorn_blur,
                scaling=self.config.sinkhorn_scaling,
                backend=self.config.sinkhorn_backend,
                normalize=self.config.sinkhorn_normalize,
            )
            if self.wb_solver == "sinkhorn"
            else None
        )

    def forward(
        self,
        source_latent: Tensor,
        barycenter: Tensor,
        residual: Tensor | None = None,
        degradation: Tensor | None = None,
        source: Tensor | None = None,
        source_weights: Tensor | None = None,
        potentials: Potentials | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Total barycenter loss and detached per-term values.

        Args:
            source_latent: ``z`` :math:`(B, C, h, w)`.
            barycenter: ``b`` :math:`(B, C, h, w)`.
            residual: ``r`` :math:`(B, C, h, w)`; ``z - b`` when ``None``.
            degradation: :math:`(B,)` fine degradation ids (contrast labels).
            source: :math:`(B,)` source (potential) index.
            source_weights: :math:`(K,)` the :math:`\\lambda_k`.
            potentials: the dual potentials; required by ``wb_solver="potentials"``.

        Returns:
            ``(total, terms)``: scalar total loss and a dict of detached scalars.
        """
        weighted, terms = self.weighted_terms(
            source_latent, barycenter, residual, degradation, source, source_weights, potentials
        )
        return sum_terms(weighted), terms

    def weighted_terms(
        self,
        source_latent: Tensor,
        barycenter: Tensor,
        residual: Tensor | None = None,
        degradation: Tensor | None = None,
        source: Tensor | None = None,
        source_weights: Tensor | None = None,
        potentials: Potentials | None = None,
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Each term times its weight (with its graph) and the detached, unweighted values.

        The arguments are :meth:`forward`'s; the total is the sum of the first dict (what
        :meth:`forward` returns), so one term's gradient can be taken on its own (the gradient
        shares of :mod:`baryir.tasks.balance`). Both dicts have the same keys.
        """
        if degradation is None or source is None or source_weights is None:
            raise ValueError(
                "BaryIRObjective: degradation, source and source_weights are all required"
            )
        config = self.config
        if residual is None:
            residual = source_latent - barycenter
        weights = source_weights.to(device=barycenter.device, dtype=barycenter.dtype)[source]

        orthogonality = (weights * orthogonality_loss(barycenter, residual)).mean()
        contrast = (
            weights * residual_contrast_loss(residual, degradation, config.temperature)
        ).mean()
        terms = {"orthogonality": orthogonality.detach(), "contrast": contrast.detach()}
        weighted = {
            "orthogonality": config.orthogonality_weight * orthogonality,
            "contrast": config.contrast_weight * contrast,
        }
        if self.wb_solver == "none":
            return weighted, terms

        cost = transport_cost(source_latent, barycenter, squared=config.squared_cost)
        transport = (weights * cost).mean()
        terms["transport"] = transport.detach()
        weighted["transport"] = config.transport_weight * transport
        if self.wb_solver == "potentials":
            if potentials is None:
                raise ValueError("BaryIRObjective: wb_solver='potentials' needs potentials")
            potential = potential_network_term(potentials, barycenter, source, source_weights)
            terms["potential"] = potential.detach()
            weighted["potential"] = config.potential_weight * potential
        else:
            alignment = self.alignment(barycenter, source, source_weights)
            terms["sinkhorn"] = alignment.detach()
            weighted["sinkhorn"] = config.sinkhorn_weight * alignment
        return weighted, terms

    @property
    def alignment_term(self) -> str | None:
        """The name of the term that aligns the sources' ``b``: ``sinkhorn``, ``potential`` or
        ``None`` (``wb_solver="none"``)."""
        return {"sinkhorn": "sinkhorn", "potentials": "potential"}.get(self.wb_solver)

    def potentials_loss(
        self, potentials: Potentials, barycenter: Tensor, source: Tensor, source_weights: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Potentials-step objective (``b`` detached): step loss plus congruence penalty.

        Returns:
            ``(total, {"potentials_dual": ..., "congruence": ...})`` (detached values).
        """
        step = potentials_step_loss(potentials, barycenter, source, source_weights)
        congruence = congruence_penalty(
            potentials, barycenter, source_weights, self.config.congruence_weight
        )
        return step + congruence, {
            "potentials_dual": step.detach(),
            "congruence": congruence.detach(),
        }
