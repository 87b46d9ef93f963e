"""ONNX export: ONNX Runtime computes what torch computes, at any height and width."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from baryir.cli import main
from baryir.models import create_model, export_model, list_models

pytest.importorskip("onnx", reason="ONNX export needs pip install 'baryir[onnx]' (onnx)")
pytest.importorskip("onnxruntime", reason="running ONNX needs pip install 'baryir[onnx]'")

from baryir.inference.onnx import OnnxRuntimeNetwork, export_onnx  # noqa: E402

TINY = [name for name in list_models() if name.endswith("-tiny")]

# float32 throughout; ONNX Runtime's kernels sum in other orders than oneDNN's (and fuse
# LayerNormalization): measured up to 3.2e-7 of the output's largest value, on Intel and AMD
RELATIVE = 1e-4


def _relative_error(network: torch.nn.Module, engine: OnnxRuntimeNetwork, shape: tuple) -> float:
    image = torch.rand(*shape, generator=torch.Generator().manual_seed(sum(shape)))
    with torch.inference_mode():
        expected = network(image).restored
    return ((engine(image) - expected).abs().max() / expected.abs().max()).item()


FOURIER = [name for name in TINY if "adair" in name]
"""AdaIR's frequency split runs torch.fft, which torch's ONNX exporter cannot write."""


@pytest.mark.parametrize("name", [name for name in TINY if name not in FOURIER])
def test_tiny_presets_match_torch_at_other_sizes(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = create_model(name).eval()
    path = tmp_path / f"{name}.onnx"
    export_onnx(network, path)
    engine = OnnxRuntimeNetwork(path)
    # the traced example is 37 x 53: a multiple of the stride, an odd size and the smallest
    # image the graph takes (sides of at least the stride: the reflect padding's limit)
    stride = network.stride
    for shape in ((1, 3, 40, 56), (1, 3, 33, 47), (1, 3, stride, stride + 1)):
        assert _relative_error(network, engine, shape) < RELATIVE, shape


@pytest.mark.parametrize("name", FOURIER)
def test_a_network_with_an_fft_is_refused_in_one_line(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"AdaIR cannot be exported to ONNX: .*fft"):
        export_onnx(create_model(name).eval(), tmp_path / f"{name}.onnx")
    assert not (tmp_path / f"{name}.onnx").exists()


@pytest.mark.slow
def test_full_network_matches_torch_at_64(tmp_path: Path) -> None:
    torch.manual_seed(0)
    network = create_model("baryir").eval()
    export_onnx(network, tmp_path / "baryir.onnx")
    engine = OnnxRuntimeNetwork(tmp_path / "baryir.onnx")
    assert _relative_error(network, engine, (1, 3, 64, 64)) < RELATIVE


def test_export_command_writes_onnx_and_says_precision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.manual_seed(0)
    weights = export_model(create_model("restormer-tiny"), tmp_path / "w.safetensors")
    assert main(["export", str(weights), str(tmp_path / "m.onnx")]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "precision: fp32 (auto: an exported file keeps the float32 weights)"
    assert said[1].startswith(f"wrote {tmp_path / 'm.onnx'} (ONNX opset ")
    assert (tmp_path / "m.onnx").stat().st_size > 0
