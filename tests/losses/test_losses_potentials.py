"""Semi-dual solver pieces: known values with linear potentials, detaching, congruence."""

import pytest
import torch
from torch import Tensor, nn

from baryir.losses import (
    congruence_penalty,
    potential_network_term,
    potentials_step_loss,
)

LAMBDAS = torch.tensor([0.5, 0.3, 0.2])


class _LinearPotentials(nn.Module):
    """f_k(b) = <a_k, flatten(b)>, the DualPotentials interface."""

    def __init__(self, slopes: Tensor) -> None:
        super().__init__()
        self.slopes = nn.Parameter(slopes)

    def all_potentials(self, b: Tensor) -> Tensor:
        return b.flatten(1) @ self.slopes.T

    def forward(self, b: Tensor, source: Tensor) -> Tensor:
        return self.all_potentials(b).gather(1, source[:, None]).squeeze(1)


class _MLPPotentials(nn.Module):
    def __init__(self, dim: int = 4, num: int = 3) -> None:
        super().__init__()
        self.nets = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, 1)) for _ in range(num)
        )

    def all_potentials(self, b: Tensor) -> Tensor:
        return torch.cat([net(b.flatten(1)) for net in self.nets], dim=1)

    def forward(self, b: Tensor, source: Tensor) -> Tensor:
        return self.all_potentials(b).gather(1, source[:, None]).squeeze(1)


def _hand_case() -> tuple[_LinearPotentials, Tensor, Tensor]:
    # a_0 = (1, 0), a_1 = (0, 1), a_2 = (1, 1); b_0 = (1, 2) from source 0, b_1 = (3, 4) from 2
    potentials = _LinearPotentials(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    b = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
    return potentials, b, torch.tensor([0, 2])


def test_known_values() -> None:
    potentials, b, source = _hand_case()
    # own potentials: f_0(b_0) = 1, f_2(b_1) = 7; (1/2)(0.5 * 1 + 0.2 * 7) = 0.95
    torch.testing.assert_close(
        potentials_step_loss(potentials, b, source, LAMBDAS), torch.tensor(0.95)
    )
    torch.testing.assert_close(
        potential_network_term(potentials, b, source, LAMBDAS), torch.tensor(-0.95)
    )
    # sum_k lambda_k f_k(b_0) = 0.5 + 0.6 + 0.6 = 1.7; (b_1): 1.5 + 1.2 + 1.4 = 4.1
    expected = 10.0 * (1.7**2 + 4.1**2) / 2
    torch.testing.assert_close(congruence_penalty(potentials, b, LAMBDAS), torch.tensor(expected))


def test_gradients_go_where_they_should() -> None:
    potentials, b, source = _hand_case()
    b.requires_grad_(True)
    potential_network_term(potentials, b, source, LAMBDAS).backward()
    # d/db_0 of -(1/2) 0.5 <a_0, b_0> = -0.25 a_0
    torch.testing.assert_close(b.grad[0].flatten(), torch.tensor([-0.25, 0.0]))
    b.grad = None
    loss = potentials_step_loss(potentials, b, source, LAMBDAS) + congruence_penalty(
        potentials, b, LAMBDAS
    )
    loss.backward()
    assert b.grad is None
    assert potentials.slopes.grad is not None


def test_congruence_penalty_drives_weighted_sum_to_zero() -> None:
    torch.manual_seed(0)
    potentials = _MLPPotentials()
    b = torch.randn(64, 4, 1, 1)
    optimizer = torch.optim.Adam(potentials.parameters(), lr=2e-2)
    initial = (potentials.all_potentials(b) @ LAMBDAS).abs().mean().item()
    for _ in range(300):
        loss = congruence_penalty(potentials, b, LAMBDAS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    final = (potentials.all_potentials(b) @ LAMBDAS).abs().mean().item()
    assert initial > 0.05
    assert final < 2e-2 * initial  # 0.008 here: Adam at a fixed lr stalls near 1e-3


def test_exception_wrong_potentials_shape() -> None:
    potentials, b, source = _hand_case()
    with pytest.raises(ValueError, match=r"all_potentials\(b\) must return \(B, 2\)"):
        congruence_penalty(potentials, b, torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="source must be"):
        potentials_step_loss(potentials, b, source[:, None], LAMBDAS)


def test_gradcheck() -> None:
    potentials = _LinearPotentials(torch.randn(3, 2, dtype=torch.float64))
    b = torch.randn(4, 2, 1, 1, dtype=torch.float64, requires_grad=True)
    source = torch.tensor([0, 1, 2, 1])
    lambdas = LAMBDAS.double()
    assert torch.autograd.gradcheck(
        lambda x: potential_network_term(potentials, x, source, lambdas), (b,)
    )
