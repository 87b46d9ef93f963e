"""``SetScorer``: a row's mean, worst image and share made worse, accumulated over batches."""

from __future__ import annotations

import math

import pytest
import torch

from baryir.evaluation.scorer import ROW_KEYS, SetScorer
from baryir.metrics import EvalProtocol, per_image_psnr, psnr_ssim


def _levels(*shape: int) -> torch.Tensor:
    return (torch.rand(*shape) * 255).round() / 255


def test_psnr_min_is_the_worst_image_across_batches_and_the_mean_hides_it() -> None:
    torch.manual_seed(0)
    clean = _levels(5, 3, 24, 24)
    restored = clean.clone()
    restored[3] = (clean[3] - 20 / 255).clamp(0, 1)  # one darkened photo, the rest untouched
    restored[1] = (clean[1] + 2 / 255).clamp(0, 1)
    scorer = SetScorer()
    scorer.update(restored[:2], clean[:2], clean[:2])
    scorer.update(restored[2:], clean[2:], clean[2:])
    row = scorer.compute()
    assert set(row) == set(ROW_KEYS)
    darkened = psnr_ssim(restored[3], clean[3])[0]
    assert row["psnr_min"] == pytest.approx(darkened, abs=1e-4)
    assert row["worse"] == pytest.approx(2 / 5)
    assert math.isinf(row["psnr"])  # untouched photos score inf: the mean alone says nothing
    scorer.reset()
    scorer.update(clean, clean, clean)
    assert math.isinf(scorer.compute()["psnr_min"])


def test_per_image_psnr_known_answer_and_protocol() -> None:
    target = torch.full((2, 3, 16, 16), 0.2)
    shifted = target + torch.tensor([0.0, 0.2]).view(2, 1, 1, 1)  # 51 levels off in image 1
    values = per_image_psnr(shifted, target)
    assert math.isinf(values[0]) and values[1] == pytest.approx(20 * math.log10(255 / 51))
    # BT.601 studio-range Y shrinks a grey shift by 219/255: 43.8 levels
    luma = per_image_psnr(shifted, target, EvalProtocol(channel="y"))[1]
    assert luma == pytest.approx(20 * math.log10(255 / (51 * 219 / 255)), abs=1e-3)
