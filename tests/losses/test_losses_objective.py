"""BaryIRObjective (the barycenter terms): keys per solver, known composition, gradients, errors."""

import pytest
import torch
from torch import Tensor, nn

from baryir.losses import (
    BaryIRObjective,
    orthogonality_loss,
    potential_network_term,
    residual_contrast_loss,
    transport_cost,
)

LAMBDAS = torch.tensor([0.6, 0.4])


class _Potentials(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, 2)

    def all_potentials(self, b: Tensor) -> Tensor:
        return self.linear(b.flatten(1))

    def forward(self, b: Tensor, source: Tensor) -> Tensor:
        return self.all_potentials(b).gather(1, source[:, None]).squeeze(1)


def _batch() -> dict[str, Tensor]:
    torch.manual_seed(0)
    z = torch.randn(4, 8, 2, 2)
    b = (z + 0.1 * torch.randn(4, 8, 2, 2)).requires_grad_(True)
    return {
        "source_latent": z.requires_grad_(True),
        "barycenter": b,
        "degradation": torch.tensor([0, 1, 3, 3]),
        "source": torch.tensor([0, 0, 1, 1]),
        "source_weights": LAMBDAS,
    }


@pytest.mark.parametrize(
    ("solver", "keys"),
    [
        ("potentials", {"transport", "orthogonality", "contrast", "potential"}),
        ("sinkhorn", {"transport", "orthogonality", "contrast", "sinkhorn"}),
        ("none", {"orthogonality", "contrast"}),
    ],
)
def test_keys_gradients_finite(solver: str, keys: set[str]) -> None:
    batch = _batch()
    objective = BaryIRObjective(wb_solver=solver, sinkhorn_backend="tensorized")
    total, terms = objective(**batch, potentials=_Potentials(32))
    assert set(terms) == keys
    assert torch.isfinite(total) and total.dim() == 0
    assert all(t.dim() == 0 and not t.requires_grad and torch.isfinite(t) for t in terms.values())
    total.backward()
    for name in ("barycenter", "source_latent"):
        assert batch[name].grad is not None and torch.isfinite(batch[name].grad).all(), name


def test_potentials_total_matches_paper_formula() -> None:
    batch, potentials = _batch(), _Potentials(32)
    objective = BaryIRObjective(
        wb_solver="potentials", orthogonality_weight=0.05, contrast_weight=0.05
    )
    total, terms = objective(**batch, potentials=potentials)
    z, b, source = batch["source_latent"], batch["barycenter"], batch["source"]
    r = z - b
    per_sample = (
        transport_cost(z, b)
        + 0.05 * (orthogonality_loss(b, r) + residual_contrast_loss(r, batch["degradation"]))
        - potentials(b, source)
    )
    expected = (LAMBDAS[source] * per_sample).mean()
    torch.testing.assert_close(total, expected)
    torch.testing.assert_close(
        terms["potential"], potential_network_term(potentials, b, source, LAMBDAS).detach()
    )


def test_sinkhorn_total_adds_weighted_alignment() -> None:
    batch = _batch()
    with_alignment = BaryIRObjective(wb_solver="sinkhorn", sinkhorn_weight=2.0)
    total, terms = with_alignment(**batch)
    without, _ = BaryIRObjective(wb_solver="sinkhorn", sinkhorn_weight=0.0)(**batch)
    torch.testing.assert_close(total, without + 2.0 * terms["sinkhorn"])
    assert terms["sinkhorn"] > 0


def test_potentials_loss_keys() -> None:
    batch = _batch()
    total, terms = BaryIRObjective(wb_solver="potentials", congruence_weight=10.0).potentials_loss(
        _Potentials(32), batch["barycenter"], batch["source"], LAMBDAS
    )
    assert set(terms) == {"potentials_dual", "congruence"}
    torch.testing.assert_close(total.detach(), terms["potentials_dual"] + terms["congruence"])


def test_exceptions() -> None:
    batch = _batch()
    with pytest.raises(ValueError, match="wb_solver"):
        BaryIRObjective(wb_solver="kantorovich")
    with pytest.raises(ValueError, match="needs potentials"):
        BaryIRObjective(wb_solver="potentials")(**batch)
    batch.pop("source")
    with pytest.raises(ValueError, match="source_weights are all required"):
        BaryIRObjective(wb_solver="none")(**batch)
