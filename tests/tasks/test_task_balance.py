"""Gradient shares (known answers), the share balancer, and both in a real ``baryir fit``."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from baryir.cli import main
from baryir.losses import BaryIRObjective
from baryir.tasks import BarycenterConfig, RestorationTask, ShareConfig
from baryir.tasks.balance import ShareBalancer, gradient_shares, share_multiplier
from baryir.tasks.callbacks import BarycenterDivergence
from tiny_run import add_callbacks, tiny_fit_args


def test_shares_of_two_terms_with_known_gradients() -> None:
    w = nn.Parameter(torch.zeros(3))
    frozen = nn.Parameter(torch.zeros(2), requires_grad=False)
    a, o = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 4.0, 0.0])
    weighted = {"pixel": (w * o).sum() + 0.0 * frozen.sum(), "sinkhorn": (w * a).sum()}
    shares, grads = gradient_shares(weighted, [w, frozen])
    assert shares["pixel"].item() == pytest.approx(4 / 5)  # |o| / |a + o| = 4 / 5
    assert shares["sinkhorn"].item() == pytest.approx(3 / 5)
    torch.testing.assert_close(grads["sinkhorn"], a)
    # a term that does not reach the parameters has share 0; parallel gradients add to 1
    v = nn.Parameter(torch.zeros(2))
    other = nn.Parameter(torch.zeros(1))
    weighted = {"x": (v * torch.tensor([1.0, 1.0])).sum(), "y": 3 * (v.sum()), "z": other.sum()}
    shares, _ = gradient_shares(weighted, [v])
    assert shares["z"].item() == 0.0
    assert shares["x"].item() + shares["y"].item() == pytest.approx(1.0)
    assert shares["y"].item() == pytest.approx(0.75)


@pytest.mark.parametrize("share", [0.01, 0.1, 0.3, 0.9])
def test_share_multiplier_reaches_the_share(share: float) -> None:
    g = torch.Generator().manual_seed(0)
    a, o = torch.randn(50, generator=g, dtype=torch.float64), torch.randn(50, generator=g).double()
    k = share_multiplier(a, o, share)
    assert k > 0
    assert float((k * a).norm() / (o + k * a).norm()) == pytest.approx(share, rel=1e-9)


def test_balancer_converges_and_moves_at_most_max_step() -> None:
    g = torch.Generator().manual_seed(1)
    a, o = 1e-3 * torch.randn(40, generator=g), torch.randn(40, generator=g)
    balancer = ShareBalancer("sinkhorn", 0.1, smoothing=0.5, max_step=10.0)
    first = balancer.update({"pixel": o, "sinkhorn": a})
    assert first == pytest.approx(10.0**0.5)  # the solution (~100) clipped to 10, halved in log
    for _ in range(30):
        m = float(balancer.multiplier)
        balancer.update({"pixel": o, "sinkhorn": m * a})
    m = float(balancer.multiplier)
    assert float((m * a).norm() / (o + m * a).norm()) == pytest.approx(0.1, rel=1e-3)
    with pytest.raises(ValueError, match="target share"):
        ShareBalancer("sinkhorn", 1.5)


def test_objective_weighted_terms_sum_to_forward() -> None:
    torch.manual_seed(0)
    objective = BaryIRObjective(wb_solver="sinkhorn", sinkhorn_points="pooled")
    z, b = torch.randn(4, 16, 2, 2), torch.randn(4, 16, 2, 2)
    args = dict(
        degradation=torch.tensor([0, 1, 3, 3]),
        source=torch.tensor([0, 0, 1, 1]),
        source_weights=torch.tensor([0.5, 0.5]),
    )
    total, terms = objective(z, b, **args)
    weighted, same = objective.weighted_terms(z, b, **args)
    assert weighted.keys() == terms.keys() == same.keys()
    assert torch.equal(sum(weighted.values()), total)
    config = objective.config
    assert torch.equal(weighted["sinkhorn"], config.sinkhorn_weight * terms["sinkhorn"])


def test_task_refuses_a_share_without_an_alignment_term() -> None:
    none = BarycenterConfig(wb_solver="none")
    shares = ShareConfig(alignment_share=0.1)
    with pytest.raises(ValueError, match="alignment_share"):
        RestorationTask(model="baryir-tiny", objective=none, grad_shares=shares)
    with pytest.raises(ValueError, match="grad_shares.every"):
        ShareConfig(every=0, alignment_share=0.1)
    task = RestorationTask(model="baryir-tiny", model_args={"dim": 8}, grad_shares=shares)
    assert task.shares.balancer.term == "sinkhorn"
    assert task.hparams["grad_shares"] == {"every": 100, "alignment_share": 0.1, "smoothing": 0.5}


def _metrics(root: Path) -> list[dict[str, str]]:
    (path,) = root.glob("logs/version_*/metrics.csv")
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_fit_logs_shares_and_b_divergence_and_balances(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_callbacks(monkeypatch, BarycenterDivergence())
    args = tiny_fit_args(tmp_path, 6, "--model.grad_shares.every", "2")
    args += ["--model.grad_shares.alignment_share", "0.3", "--model.grad_shares.smoothing", "1.0"]
    assert main(args) in (0, None)
    rows = _metrics(tmp_path)
    names = {"pixel", "orthogonality", "contrast", "transport", "sinkhorn"}
    shares = [r for r in rows if r.get("train/grad_share/sinkhorn")]
    assert len(shares) == 6 and all(r[f"train/grad_share/{n}"] for n in names for r in shares)
    first, last = float(shares[0]["train/grad_share/sinkhorn"]), shares[-1]
    assert first < 0.3  # the paper's weights: the pixel term dominates
    assert float(last["train/grad_share/sinkhorn"]) > first
    assert float(last["train/alignment_multiplier"]) > 1.0
    divergence = [float(r["val/b_divergence"]) for r in rows if r.get("val/b_divergence")]
    assert len(divergence) == 1 and 0.0 <= divergence[0] <= 3 / 2 + 1e-6  # K/(K-1) for 3 rows
    assert math.isfinite(divergence[0])
