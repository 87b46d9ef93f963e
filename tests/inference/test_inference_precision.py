"""bf16 restore: autocast only where the hardware has native bf16, float32 out, close to fp32."""

from __future__ import annotations

import logging

import pytest
import torch

import baryir.inference.precision as precision
from baryir.inference import autocast_for, native_bf16, restore
from baryir.metrics import psnr_ssim
from baryir.models import create_model


def test_fp32_is_no_autocast_and_bad_names_fail() -> None:
    with autocast_for("fp32", "cpu"):
        assert not torch.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="precision must be"):
        autocast_for("fp16", "cpu")  # type: ignore[arg-type]


def test_bf16_without_native_support_warns_and_runs_fp32(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    with caplog.at_level(logging.WARNING), autocast_for("bf16", "cpu"):
        assert not torch.is_autocast_enabled("cpu")
    assert "no native bf16" in caplog.text


def test_bf16_with_native_support_autocasts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    with autocast_for("bf16", "cpu"):
        assert torch.is_autocast_enabled("cpu")
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16


def test_bf16_restore_is_float32_and_close_to_fp32() -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny")
    image = torch.rand(3, 48, 40)
    reference = restore(model, image)
    output = restore(model, image, precision="bf16")
    assert output.dtype == torch.float32 and output.shape == image.shape
    psnr, _ = psnr_ssim(output, reference)
    # on a CPU without native bf16 both ran fp32 (identical); with it, bf16 rounding only
    assert psnr > 40.0 if native_bf16("cpu") else psnr == float("inf")
