"""The authors' files as they ship them (whole pickled ``model_bary`` modules), through every
entry point, equal to the network that was pickled."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.cli import main
from baryir.io.image import read_image
from baryir.models import (
    BaryNet,
    DualPotentials,
    convert_official_checkpoint,
    create_model,
    load_model,
    load_official_checkpoint,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from released_format import (  # noqa: E402
    ReleasedPotentials,
    released_forward,
    released_network,
    write_released_checkpoint,
)

DIM = 48  # the release's width: its files carry no config, so loaders build the released network
CHANNELS, PATCH = 8 * DIM, 32  # the potentials at a small patch (the release's: 128, 121 MB)


def reference() -> Path:
    shared = os.environ.get("BARYIR_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
    path = Path(shared) / "reference" / "official_barynet_state_dict.json"
    if not path.is_file():
        pytest.skip(f"released parameter list not found at {path} (set BARYIR_SHARED)")
    return path


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict:
    torch.manual_seed(0)
    ours = create_model("baryir", dim=DIM).eval()
    generator = torch.Generator().manual_seed(1)
    network = released_network(ours, reference(), generator)
    potentials = ReleasedPotentials(3, CHANNELS, PATCH)
    path = tmp_path_factory.mktemp("release") / "model_allBaryNet128.pt"
    write_released_checkpoint(path, network, potentials)
    return {"path": path, "ours": ours, "network": network, "potentials": potentials}


def test_file_is_the_release_format(release: dict) -> None:
    with pytest.raises(ModuleNotFoundError, match="model_bary"):
        torch.load(release["path"], weights_only=False)  # needs the authors' code
    names = torch.serialization.get_unsafe_globals_in_checkpoint(release["path"])
    assert {"model_bary.BaryNet", "model_bary.Potentials", "torch.nn.modules.conv.Conv2d"} <= set(
        names
    )
    assert json.loads(reference().read_text())["BaryNet(decoder=True)"].keys() == (
        release["network"].state_dict().keys()
    )


@torch.no_grad()
def test_network_outputs_equal_the_pickled_network(release: dict) -> None:
    x = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(2))
    expected = released_forward(release["network"], release["ours"], reference(), x).restored
    assert (expected - x).abs().max() > 0.05  # a network that changes its input
    for loaded in (
        load_model(release["path"]),
        load_official_checkpoint(release["path"]),
        create_model("baryir", weights=release["path"]),
    ):
        assert isinstance(loaded, BaryNet)
        assert (loaded(x).restored - expected).abs().max() < 1e-5


@torch.no_grad()
def test_potentials_outputs_equal_the_pickled_potentials(release: dict) -> None:
    b = torch.randn(2, CHANNELS, PATCH // 8, PATCH // 8, generator=torch.Generator().manual_seed(3))
    expected = release["potentials"](b)
    for loaded in (
        load_model(release["path"], arch="potentials"),
        load_official_checkpoint(release["path"], arch="potentials"),
    ):
        assert isinstance(loaded, DualPotentials) and loaded.config["patch_size"] == PATCH
        assert (loaded.all_potentials(b) - expected).abs().max() < 1e-5


def test_convert_and_restore_commands(release: dict, tmp_path: Path) -> None:
    out = tmp_path / "weights" / "baryir-3d.safetensors"
    assert main(["convert", str(release["path"]), str(out)]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["config"]["dim"] == DIM
    pots = tmp_path / "weights" / "potentials.safetensors"
    assert main(["convert", str(release["path"]), str(pots), "--arch", "potentials"]) == 0
    torch.testing.assert_close(
        load_model(pots).state_dict(),
        load_official_checkpoint(release["path"], arch="potentials").state_dict(),
        rtol=0,
        atol=0,
    )
    rgb = np.random.default_rng(0).integers(0, 256, (30, 44, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    for name, ckpt in (("direct", release["path"]), ("converted", out)):
        argv = [str(tmp_path / "photo.png"), "--ckpt", str(ckpt), "--output", str(tmp_path / name)]
        assert main(["restore", *argv]) == 0
    direct, converted = (read_image(tmp_path / d / "photo.png") for d in ("direct", "converted"))
    assert torch.equal(direct, converted)
    assert not torch.equal(direct, read_image(tmp_path / "photo.png"))


def test_convert_official_checkpoint_writes_loadable_weights(release: dict, tmp_path: Path) -> None:
    dst = convert_official_checkpoint(release["path"], tmp_path / "w.safetensors")
    x = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = released_forward(release["network"], release["ours"], reference(), x).restored
        assert (load_model(dst)(x).restored - expected).abs().max() < 1e-5
