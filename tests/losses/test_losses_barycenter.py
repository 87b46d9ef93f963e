"""Both barycenter solvers recover the known barycenter of shifted Gaussian sources.

Setup (known answer): K = 3 sources in 2-D, source k = X + mu_k for one shared Gaussian sample X
(so the sources are exact shifts of one another), non-uniform lambda = (0.5, 0.3, 0.2). With the
squared cost, the W2 barycenter of shifts is X + sum_k lambda_k mu_k, so every pushforward mean
must reach m* = mean(X) + sum_k lambda_k mu_k (|mu_k - m*| is 1.3 to 3.0 here). Batches are
balanced (48 samples per source), so the paper's batch weighting (1/B) sum_i lambda_k(i)
weights source k by lambda_k / K, i.e. proportionally to lambda_k.
"""

import torch
from torch import Tensor, nn

from baryir.losses import (
    SinkhornAlignment,
    congruence_penalty,
    potential_network_term,
    potentials_step_loss,
    transport_cost,
)

DIM, K, N = 2, 3, 48
MEANS = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]])
LAMBDAS = torch.tensor([0.5, 0.3, 0.2])


def _sources() -> tuple[Tensor, Tensor, Tensor]:
    """Flattened samples (K*N, DIM), their source (K*N,), and the known barycenter mean."""
    base = 0.5 * torch.randn(N, DIM, generator=torch.Generator().manual_seed(0))
    z = (base[None] + MEANS[:, None]).reshape(K * N, DIM)
    source = torch.arange(K).repeat_interleave(N)
    return z, source, base.mean(0) + (LAMBDAS[:, None] * MEANS).sum(0)


def _pushforward_means(b: Tensor) -> Tensor:
    return b.detach().reshape(K, N, DIM).mean(1)


class _ShiftMap(nn.Module):
    """T_k(z) = z + t_k, one learned shift per source."""

    def __init__(self) -> None:
        super().__init__()
        self.shift = nn.Parameter(torch.zeros(K, DIM))

    def forward(self, z: Tensor, source: Tensor) -> Tensor:
        return z + self.shift[source]


class _AffineMap(nn.Module):
    """T_k(z) = z + z W_k + t_k, one learned affine map per source."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(K, DIM, DIM))
        self.shift = nn.Parameter(torch.zeros(K, DIM))

    def forward(self, z: Tensor, source: Tensor) -> Tensor:
        return z + torch.einsum("bd,bde->be", z, self.weight[source]) + self.shift[source]


class _TinyPotentials(nn.Module):
    """One small MLP per source, same interface as baryir.models.dual_potentials.DualPotentials."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.nets = nn.ModuleList(
            nn.Sequential(nn.Linear(DIM, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
            for _ in range(K)
        )

    def all_potentials(self, b: Tensor) -> Tensor:
        return torch.cat([net(b.flatten(1)) for net in self.nets], dim=1)

    def forward(self, b: Tensor, source: Tensor) -> Tensor:
        return self.all_potentials(b).gather(1, source[:, None]).squeeze(1)


def test_sinkhorn_solver_recovers_weighted_barycenter() -> None:
    # loss = (1/B) sum_i lambda_k(i) c_i (squared) + alpha * alignment (pooled points: one point
    # per sample). The alignment is translation invariant, so it cannot move the lambda-weighted
    # consensus; only the cost decides it (exact in the limit), while alpha only sets how far
    # each source is left from the others (O(1/alpha)). SGD+momentum preserves that invariance;
    # Adam's per-coordinate scaling drifts the consensus and converges much more slowly.
    torch.manual_seed(0)
    z, source, expected = _sources()
    transport_map = _ShiftMap()
    align = SinkhornAlignment(points="pooled", blur=0.05, backend="tensorized")
    optimizer = torch.optim.SGD(transport_map.parameters(), lr=0.04, momentum=0.9)
    for _ in range(150):
        b = transport_map(z, source)
        cost = (LAMBDAS[source] * transport_cost(z, b, squared=True)).mean()
        loss = cost + 30.0 * align(b[:, :, None, None], source, LAMBDAS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    means = _pushforward_means(transport_map(z, source))
    consensus = (LAMBDAS[:, None] * means).sum(0)
    torch.testing.assert_close(consensus, expected, atol=0.01, rtol=0)
    assert (means - expected).norm(dim=1).max() < 0.03, means


def test_potentials_solver_recovers_weighted_barycenter() -> None:
    # The paper's alternating max-min: network step on (1/B) sum lambda (c - f(T z)), then a
    # potentials step on (1/B) sum lambda f(b) + congruence penalty (b detached), Adam for both.
    torch.manual_seed(0)
    z, source, expected = _sources()
    transport_map, potentials = _AffineMap(), _TinyPotentials()
    map_optimizer = torch.optim.Adam(transport_map.parameters(), lr=0.05)
    potentials_optimizer = torch.optim.Adam(potentials.parameters(), lr=0.01)
    for _ in range(300):
        b = transport_map(z, source)
        cost = (LAMBDAS[source] * transport_cost(z, b, squared=True)).mean()
        loss = cost + potential_network_term(potentials, b, source, LAMBDAS)
        map_optimizer.zero_grad()
        loss.backward()
        map_optimizer.step()
        b = b.detach()
        loss = potentials_step_loss(potentials, b, source, LAMBDAS)
        loss = loss + congruence_penalty(potentials, b, LAMBDAS, weight=10.0)
        potentials_optimizer.zero_grad()
        loss.backward()
        potentials_optimizer.step()
    means = _pushforward_means(transport_map(z, source))
    assert (means - expected).norm(dim=1).max() < 0.05, means
