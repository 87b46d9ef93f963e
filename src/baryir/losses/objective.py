"""The BaryIR training objective: weighted sum of every term plus a per-term dict for logging."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from .contrastive import residual_contrast_loss
from .cost import transport_cost
from .orthogonality import orthogonality_loss
from .pixel import pixel_loss
from .potentials import Potentials, congruence_penalty, potential_network_term, potentials_step_loss
from .sinkhorn import SinkhornAlignment

__all__ = ["BaryIRObjective"]

WBSolver = Literal["sinkhorn", "potentials", "none"]


class BaryIRObjective(nn.Module):
    r"""Network loss of BaryIR (BARYIR.md section 3) with a choice of barycenter solver.

    On a batch of ``B`` samples, sample ``i`` from source ``k(i)``, with
    :math:`w_i = \lambda_{k(i)}`:

    .. math::

        L = \frac1B \sum_i w_i \big( \alpha_c c_i + \gamma_o o_i + \gamma_q q_i
            - \alpha_f f_{k(i)}(b_i) \big) + S \cdot \operatorname{mean}|\hat x - x|
            + \alpha_s A

    with :math:`c_i` the transport cost (:func:`~baryir.losses.cost.transport_cost`),
    :math:`o_i` the orthogonality (:func:`~baryir.losses.orthogonality.orthogonality_loss`),
    :math:`q_i` the residual contrast on the fine degradation labels
    (:func:`~baryir.losses.contrastive.residual_contrast_loss`) and :math:`A` the Sinkhorn
    alignment (:class:`~baryir.losses.sinkhorn.SinkhornAlignment`). Per ``wb_solver``:

    * ``"potentials"`` (paper): the :math:`f` term, no :math:`A`; logs ``pixel, transport,
      orthogonality, contrast, potential``.
    * ``"sinkhorn"``: :math:`A`, no :math:`f` term; logs ``pixel, transport, orthogonality,
      contrast, sinkhorn``.
    * ``"none"``: neither transport nor :math:`f` nor :math:`A`; logs ``pixel, orthogonality,
      contrast``.
    * a model without a barycenter (``barycenter=None``, e.g. Restormer): pixel only; logs
      ``pixel``.

    The logged values are detached and unweighted by the scalar weights (``transport`` is
    :math:`\frac1B\sum_i w_i c_i`, ``potential`` is :func:`potential_network_term`, i.e.
    :math:`-\frac1B\sum_i w_i f_{k(i)}(b_i)`, ``pixel`` is the mean L1).

    Args:
        pixel_weight: :math:`S` (paper: 10000).
        transport_weight: :math:`\alpha_c`.
        potential_weight: :math:`\alpha_f`.
        orthogonality_weight: :math:`\gamma_o` (paper: :math:`\gamma = 0.05`).
        contrast_weight: :math:`\gamma_q` (paper: :math:`\gamma = 0.05`).
        temperature: residual contrast temperature.
        sinkhorn_weight: :math:`\alpha_s`.
        congruence_weight: weight of the congruence penalty in :meth:`potentials_loss`.
        squared_cost: mean squared cost instead of the paper's root mean square.
        wb_solver: ``"sinkhorn"``, ``"potentials"`` or ``"none"``.
        pixel_loss: ``"l1"`` (paper) or ``"charbonnier"``.
        sinkhorn_points, sinkhorn_num_points, sinkhorn_blur, sinkhorn_scaling, sinkhorn_backend,
        sinkhorn_normalize: passed to :class:`~baryir.losses.sinkhorn.SinkhornAlignment`.

    Example:
        >>> objective = BaryIRObjective(wb_solver="sinkhorn", sinkhorn_points="pooled")
        >>> x = torch.rand(4, 3, 8, 8)
        >>> z, b = torch.randn(4, 16, 1, 1), torch.randn(4, 16, 1, 1)
        >>> total, terms = objective(
        ...     x, x, z, b, degradation=torch.tensor([0, 1, 3, 3]),
        ...     source=torch.tensor([0, 0, 1, 1]), source_weights=torch.tensor([0.5, 0.5]))
        >>> sorted(terms)
        ['contrast', 'orthogonality', 'pixel', 'sinkhorn', 'transport']
    """

    def __init__(
        self,
        pixel_weight: float = 10000.0,
        transport_weight: float = 1.0,
        potential_weight: float = 1.0,
        orthogonality_weight: float = 0.05,
        contrast_weight: float = 0.05,
        temperature: float = 0.07,
        sinkhorn_weight: float = 1.0,
        congruence_weight: float = 10.0,
        squared_cost: bool = False,
        wb_solver: WBSolver = "potentials",
        pixel_loss: Literal["l1", "charbonnier"] = "l1",
        sinkhorn_points: Literal["tokens", "pooled"] = "tokens",
        sinkhorn_num_points: int = 256,
        sinkhorn_blur: float = 0.05,
        sinkhorn_scaling: float = 0.5,
        sinkhorn_backend: Literal["auto", "tensorized", "online"] = "auto",
        sinkhorn_normalize: bool = False,
    ) -> None:
        super().__init__()
        if wb_solver not in ("sinkhorn", "potentials", "none"):
            raise ValueError(
                "BaryIRObjective: wb_solver must be 'sinkhorn', 'potentials' or 'none', "
                f"got {wb_solver!r}"
            )
        if pixel_loss not in ("l1", "charbonnier"):
            raise ValueError(
                f"BaryIRObjective: pixel_loss must be 'l1' or 'charbonnier', got {pixel_loss!r}"
            )
        if temperature <= 0:
            raise ValueError(f"BaryIRObjective: temperature must be > 0, got {temperature}")
        self.pixel_weight = pixel_weight
        self.transport_weight = transport_weight
        self.potential_weight = potential_weight
        self.orthogonality_weight = orthogonality_weight
        self.contrast_weight = contrast_weight
        self.temperature = temperature
        self.sinkhorn_weight = sinkhorn_weight
        self.congruence_weight = congruence_weight
        self.squared_cost = squared_cost
        self.wb_solver = wb_solver
        self.pixel_loss = pixel_loss
        self.alignment = (
            SinkhornAlignment(
                points=sinkhorn_points,
                num_points=sinkhorn_num_points,
                blur=sinkhorn_blur,
                scaling=sinkhorn_scaling,
                backend=sinkhorn_backend,
                normalize=sinkhorn_normalize,
            )
            if wb_solver == "sinkhorn"
            else None
        )

    def forward(
        self,
        restored: Tensor,
        target: Tensor,
        source_latent: Tensor | None = None,
        barycenter: Tensor | None = None,
        residual: Tensor | None = None,
        degradation: Tensor | None = None,
        source: Tensor | None = None,
        source_weights: Tensor | None = None,
        potentials: Potentials | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Total loss and detached per-term values.

        Args:
            restored: network output :math:`(B, 3, H, W)`.
            target: clean image :math:`(B, 3, H, W)`.
            source_latent: ``z`` :math:`(B, C, h, w)`; needed with a barycenter.
            barycenter: ``b`` :math:`(B, C, h, w)` or ``None`` (pixel loss only).
            residual: ``r`` :math:`(B, C, h, w)`; ``z - b`` when ``None``.
            degradation: :math:`(B,)` fine degradation ids (contrast labels).
            source: :math:`(B,)` source (potential) index.
            source_weights: :math:`(K,)` the :math:`\\lambda_k`.
            potentials: the dual potentials; required by ``wb_solver="potentials"``.

        Returns:
            ``(total, terms)``: scalar total loss and a dict of detached scalars.
        """
        pixel = pixel_loss(restored, target, self.pixel_loss)
        terms = {"pixel": pixel.detach()}
        total = self.pixel_weight * pixel
        if barycenter is None:
            return total, terms
        if source_latent is None or degradation is None or source is None or source_weights is None:
            raise ValueError(
                "BaryIRObjective: with a barycenter, source_latent, degradation, source and "
                "source_weights are all required"
            )
        if residual is None:
            residual = source_latent - barycenter
        weights = source_weights.to(device=barycenter.device, dtype=barycenter.dtype)[source]

        orthogonality = (weights * orthogonality_loss(barycenter, residual)).mean()
        contrast = (
            weights * residual_contrast_loss(residual, degradation, self.temperature)
        ).mean()
        terms["orthogonality"] = orthogonality.detach()
        terms["contrast"] = contrast.detach()
        total = total + self.orthogonality_weight * orthogonality + self.contrast_weight * contrast
        if self.wb_solver == "none":
            return total, terms

        cost = transport_cost(source_latent, barycenter, squared=self.squared_cost)
        transport = (weights * cost).mean()
        terms["transport"] = transport.detach()
        total = total + self.transport_weight * transport
        if self.wb_solver == "potentials":
            if potentials is None:
                raise ValueError("BaryIRObjective: wb_solver='potentials' needs potentials")
            potential = potential_network_term(potentials, barycenter, source, source_weights)
            terms["potential"] = potential.detach()
            total = total + self.potential_weight * potential
        else:
            alignment = self.alignment(barycenter, source, source_weights).loss
            terms["sinkhorn"] = alignment.detach()
            total = total + self.sinkhorn_weight * alignment
        return total, terms

    def potentials_loss(
        self, potentials: Potentials, barycenter: Tensor, source: Tensor, source_weights: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Potentials-step objective (``b`` detached): step loss plus congruence penalty.

        Returns:
            ``(total, {"potentials_step": ..., "congruence": ...})`` (detached values).
        """
        step = potentials_step_loss(potentials, barycenter, source, source_weights)
        congruence = congruence_penalty(
            potentials, barycenter, source_weights, self.congruence_weight
        )
        return step + congruence, {
            "potentials_step": step.detach(),
            "congruence": congruence.detach(),
        }
