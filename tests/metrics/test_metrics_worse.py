"""``WorseThanInput``: the share of images a restoration made worse than its input."""

from __future__ import annotations

import pytest
import torch

from baryir.metrics import EvalProtocol, WorseThanInput, psnr_ssim


def test_counts_images_whose_psnr_fell_below_the_input() -> None:
    torch.manual_seed(0)
    target = torch.rand(4, 3, 16, 16)
    degraded = (target + 0.05 * torch.randn_like(target)).clamp(0, 1)
    restored = degraded.clone()
    restored[0] = target[0]  # better
    restored[1] = (target[1] + 0.2 * torch.randn_like(target[1])).clamp(0, 1)  # worse
    restored[2] = 1 - target[2]  # worse
    metric = WorseThanInput()
    metric.update(restored[:2], degraded[:2], target[:2])
    metric.update(restored[2:], degraded[2:], target[2:])  # image 3 unchanged: not worse
    assert float(metric.compute()) == 0.5
    for i, expected in enumerate([False, True, True, False]):
        worse = psnr_ssim(restored[i], target[i])[0] < psnr_ssim(degraded[i], target[i])[0]
        assert worse == expected


def test_clean_row_counts_any_visible_change() -> None:
    clean = (torch.rand(3, 3, 16, 16) * 255).round() / 255
    metric = WorseThanInput(EvalProtocol())
    nudged = clean.clone()
    nudged[1, 0, 0, 0] = 1 - nudged[1, 0, 0, 0]
    tiny = clean + 0.1 / 255  # rounds back to the same 8-bit levels
    metric.update(torch.stack([clean[0], nudged[1], tiny[2]]), clean, clean)
    assert float(metric.compute()) == pytest.approx(1 / 3)
