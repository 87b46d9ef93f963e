"""The tiny model learns: its loss goes down on a fixed batch, with the full objective."""

from __future__ import annotations

import torch

from baryir.losses import BaryIRObjective, pixel_loss
from baryir.models import create_model


def test_tiny_model_loss_goes_down_on_a_fixed_batch() -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny", dim=8)
    objective = BaryIRObjective(wb_solver="sinkhorn", sinkhorn_points="pooled")
    clean = torch.rand(6, 3, 32, 32)
    noisy = (clean + 25 / 255 * torch.randn_like(clean)).clamp(0, 1)
    source = torch.tensor([0, 0, 1, 1, 2, 2])
    weights = torch.full((3,), 1 / 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        out = model(noisy)
        barycenter_loss, _ = objective(
            out.source_latent,
            out.barycenter,
            out.residual,
            degradation=source,
            source=source,
            source_weights=weights,
        )
        total = 1e4 * pixel_loss(out.restored, clean) + barycenter_loss
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        losses.append(total.item())
    assert losses[-1] < 0.6 * losses[0]
    assert sum(losses[-5:]) < sum(losses[:5])
