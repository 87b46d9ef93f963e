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


# flag lines as /proc/cpuinfo writes them: Zen 4 (AVX-512 BF16), Sapphire Rapids (AMX and
# AVX-512 BF16), Ice Lake (AVX-512 without BF16), an Arm core
ZEN4 = "fpu sse2 avx2 avx512f avx512_vnni avx512_bf16 vaes"
SAPPHIRE_RAPIDS = "avx512f avx512_bf16 amx_bf16 amx_tile amx_int8"
ICE_LAKE = "fpu avx2 avx512f avx512_vnni avx512_vbmi2"
NEOVERSE = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics bf16"


@pytest.mark.parametrize(
    ("flags", "found"),
    [
        (ZEN4, ["avx512_bf16"]),
        (SAPPHIRE_RAPIDS, ["amx_bf16", "avx512_bf16"]),
        (ICE_LAKE, []),
        (NEOVERSE, []),
        ("", []),
    ],
)
def test_bf16_flags_are_read_from_the_flag_set(flags: str, found: list[str]) -> None:
    assert sorted(precision.bf16_cpu_flags(flags.split())) == found


def test_cpu_flags_reads_the_first_flags_line(tmp_path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {ZEN4}\n\n"
        f"processor\t: 1\nflags\t\t: {ICE_LAKE}\n"
    )
    assert precision.cpu_flags(cpuinfo) == ZEN4.split()
    assert precision.cpu_flags(tmp_path / "absent") is None


@pytest.mark.parametrize(("flags", "chosen"), [(ZEN4, "bf16"), (ICE_LAKE, "fp32")])
def test_auto_follows_the_cpu_flags(
    monkeypatch: pytest.MonkeyPatch, flags: str, chosen: str
) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags.split())
    assert precision.resolve_precision("auto", "cpu") == chosen
    assert precision.resolve_precision("fp32", "cpu") == "fp32"
    expected = "cpu has avx512_bf16" if chosen == "bf16" else "cpu has no amx_bf16 or avx512_bf16"
    assert precision.describe_precision("auto", "cpu") == f"precision: {chosen} (auto: {expected})"
    assert precision.describe_precision("fp32", "cpu") == "precision: fp32"
    with pytest.raises(ValueError, match="precision must be"):
        precision.resolve_precision("fp16", "cpu")  # type: ignore[arg-type]
