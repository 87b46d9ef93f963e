"""The peers' files as their authors ship them (BasicSR ``.pth``, Lightning ``.ckpt``), through
every loader and command, recognised with their size and equal to the authors' outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.cli import main
from baryir.io.checkpoint import CheckpointError, load_checkpoint
from baryir.io.image import read_image
from baryir.models import AdaIR, NAFNet, convert_official_checkpoint, create_model, load_model

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from peer_formats import (  # noqa: E402
    reference_path,
    reference_small,
    write_adair_ckpt,
    write_nafnet_pth,
)


def peers_reference(name: str) -> Path:
    path = reference_path(name)
    if not path.is_file():
        pytest.skip(f"peer reference {path} not found (set BARYIR_SHARED)")
    return path


def small(name: str) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The authors' small network's weights, the input and the authors' output."""
    weights, data, _ = reference_small(peers_reference(f"{name}_small.safetensors"))
    return weights, data["input"], data["output"]


def close_to(out: torch.Tensor, expected: torch.Tensor) -> bool:
    """Within float32 rounding of the authors' output: 1e-5 of its range (see test_models_peers)."""
    return (out - expected).abs().max().item() <= 1e-5 * (expected.max() - expected.min()).item()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("peers")
    nafnet, _, _ = small("nafnet")
    adair, _, _ = small("adair")
    raw = {k: v + 1.0 for k, v in nafnet.items()}  # the raw weights beside the EMA: not these
    return {
        "nafnet-ema": write_nafnet_pth(folder / "NAFNet-SIDD-width8.pth", raw, ema=nafnet),
        "nafnet": write_nafnet_pth(folder / "NAFNet-GoPro-width8.pth", nafnet, ema=None),
        "adair": write_adair_ckpt(folder / "adair5d.ckpt", adair),
    }


def test_the_files_are_the_authors_formats(files: dict[str, Path]) -> None:
    assert sorted(load_checkpoint(files["nafnet-ema"])) == ["params", "params_ema"]
    assert sorted(load_checkpoint(files["nafnet"])) == ["params"]
    with pytest.raises(CheckpointError, match="argparse.Namespace"):  # weights-only refuses it
        load_checkpoint(files["adair"])
    keys = torch.serialization.get_unsafe_globals_in_checkpoint(files["adair"])
    assert keys == ["argparse.Namespace"]


@torch.no_grad()
@pytest.mark.parametrize("kind", ["nafnet-ema", "nafnet", "adair"])
def test_every_loader_recognises_the_network_and_its_size(
    files: dict[str, Path], kind: str
) -> None:
    name = kind.removesuffix("-ema")
    _, x, expected = small(name)
    cls, preset = (NAFNet, "nafnet-sidd-32") if name == "nafnet" else (AdaIR, "adair")
    for model in (
        load_model(files[kind]),
        create_model(preset, weights=files[kind]),
        convert_official_checkpoint(files[kind], files[kind].with_suffix(".safetensors"))
        and load_model(files[kind].with_suffix(".safetensors")),
    ):
        assert isinstance(model, cls) and model.config["in_channels"] == 3
        assert model.config.get("width", model.config.get("dim")) == 8
        assert close_to(model.eval()(x).restored, expected)
    # a size no preset has: named after the class
    assert load_model(files[kind]).preset_name == ("nafnet" if name == "nafnet" else "adair")


def test_convert_and_restore_commands(files: dict[str, Path], tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (30, 44, 3), dtype=np.uint8)  # not x16
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    for kind in ("nafnet-ema", "adair"):
        out = tmp_path / f"{kind}.safetensors"
        assert main(["convert", str(files[kind]), str(out)]) == 0
        stored = json.loads(out.with_suffix(".json").read_text())
        assert stored["model"] in ("nafnet", "adair") and stored["config"]["in_channels"] == 3
        for label, ckpt in (("direct", files[kind]), ("converted", out)):
            folder = tmp_path / f"{kind}-{label}"
            argv = [str(tmp_path / "photo.png"), "--ckpt", str(ckpt), "--output", str(folder)]
            assert main(["restore", *argv]) == 0
        direct, converted = (
            read_image(tmp_path / f"{kind}-{d}" / "photo.png") for d in ("direct", "converted")
        )
        assert direct.shape == (3, 30, 44) and torch.equal(direct, converted)


def test_a_file_of_no_known_network_names_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"params": {"head.weight": torch.ones(2, 3), "tail.bias": torch.ones(2)}}, path)
    with pytest.raises(CheckpointError) as error:
        load_model(path)
    message = str(error.value)
    assert "\n" not in message and "'head.weight', 'tail.bias'" in message
    assert "match no known network" in message
