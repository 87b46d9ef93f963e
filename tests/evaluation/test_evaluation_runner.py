"""``evaluate()`` (the one evaluation loop) and ``baryir suite`` on a tiny fake data root."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

import baryir
from baryir.cli import main
from baryir.io.checkpoint import export_weights
from baryir.io.image import read_image, write_image
from baryir.metrics import EvalProtocol, psnr_ssim
from baryir.models import create_model, model_config


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(0)
    model = create_model("baryir-tiny").eval()
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    export_weights(model.state_dict(), path, "baryir-tiny", model_config(model))
    return model, path


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``CBSD68/`` with two clean 40x48 images and ``real/photos/`` with one 36x44 photo."""
    root = tmp_path_factory.mktemp("data")
    generator = torch.Generator().manual_seed(1)
    for name in ("a", "b"):
        base = torch.rand(3, 5, 6, generator=generator)
        image = torch.nn.functional.interpolate(base[None], size=(40, 48), mode="bilinear")[0]
        write_image(root / "CBSD68" / f"{name}.png", image)
    write_image(root / "real" / "photos" / "p.png", torch.rand(3, 36, 44, generator=generator))
    return root


class Pairs(Dataset):
    """Two fixed (input, target) pairs, as a user-made dataset."""

    label = "mine"

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(2)
        self.targets = torch.rand(2, 3, 32, 32, generator=generator)

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> dict:
        target = self.targets[index]
        return {"input": (target + 0.1).clamp(0, 1), "target": target, "name": str(index)}


def test_evaluate_returns_rows_for_specs_and_datasets(tiny, data_root: Path) -> None:
    model, _ = tiny
    rows = baryir.evaluate(model, ["CBSD68:noise:30", Pairs()], root=data_root)
    assert list(rows) == ["CBSD68 noise:30", "mine"]
    for row in rows.values():
        assert set(row) == {
            "psnr",
            "ssim",
            "input_psnr",
            "input_ssim",
            "worse",
            "psnr_min",
            "images",
        }
        assert 0.0 <= row["worse"] <= 1.0
        assert row["images"] == 2
        assert 0 < row["ssim"] <= 1 and row["psnr"] > 0
    # the input row is the per-image mean of the protocol's PSNR of input vs target
    pairs = Pairs()
    expected = sum(psnr_ssim(pairs[i]["input"], pairs[i]["target"])[0] for i in range(2)) / 2
    assert rows["mine"]["input_psnr"] == pytest.approx(expected, abs=1e-4)


def test_evaluate_is_deterministic_and_honours_max_images(tiny, data_root: Path) -> None:
    model, path = tiny
    first = baryir.evaluate(model, "CBSD68:15", root=data_root, max_images=1)
    second = baryir.evaluate(path, "CBSD68:15", root=data_root, max_images=1)  # from the file
    assert first == second and first["CBSD68 noise:15"]["images"] == 1


def test_evaluate_callback_sees_cropped_images(tiny) -> None:
    model, _ = tiny
    seen = []
    baryir.evaluate(
        model,
        [Pairs()],
        protocol=EvalProtocol(multiple=16),
        on_image=lambda label, item, out: seen.append((label, item["input"].shape, out.shape)),
    )
    assert seen == [("mine", (3, 32, 32), (3, 32, 32))] * 2


def test_suite_command_prints_parameter_labels_and_writes_outputs(
    tiny, data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, weights = tiny
    config = tmp_path / "mini.yaml"
    config.write_text(
        "name: mini\nseed: 0\nclean_sets: [CBSD68]\n"
        'degradations: ["noise:75", "noise:15+jpeg:20", "defocus:2"]\nreal: [real/photos]\n'
    )
    out = tmp_path / "out"
    argv = ["--config", str(config), "--ckpt", str(weights), "--root", str(data_root)]
    assert main(["suite", *argv, "--output", str(out), "--max-images", "2"]) == 0
    printed = capsys.readouterr().out
    for label in ("CBSD68 noise:75", "CBSD68 noise:15+jpeg:20", "CBSD68 defocus:2", "average"):
        assert label in printed
    assert "input_ssim" in printed
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["test_set"] for r in rows] == [
        "CBSD68 noise:75",
        "CBSD68 noise:15+jpeg:20",
        "CBSD68 defocus:2",
    ]
    assert "| average |" in (out / "results.md").read_text()
    # per_image.csv: two images per row, whose mean and minimum are the row's psnr and psnr_min
    images = list(csv.DictReader((out / "per_image.csv").open()))
    assert len(images) == 6
    for row in rows:
        psnrs = [float(i["psnr"]) for i in images if i["test_set"] == row["test_set"]]
        inputs = [float(i["input_psnr"]) for i in images if i["test_set"] == row["test_set"]]
        assert sum(psnrs) / 2 == pytest.approx(float(row["psnr"]), abs=1e-4)
        assert min(psnrs) == pytest.approx(float(row["psnr_min"]), abs=1e-4)
        assert sum(inputs) / 2 == pytest.approx(float(row["input_psnr"]), abs=1e-4)
    assert read_image(out / "real" / "photos" / "p.png").shape == (3, 36, 44)
    # tiled run gives the same table layout
    assert main(["suite", *argv, "--output", str(tmp_path / "t"), "--tile", "32"]) == 0


def test_suite_command_reports_bad_config(tiny, tmp_path: Path, capsys) -> None:
    _, weights = tiny
    config = tmp_path / "bad.yaml"
    config.write_text("clean_sets: [CBSD68]\ndegradations: [hail]\n")
    assert main(["suite", "--config", str(config), "--ckpt", str(weights)]) == 2
    assert "unknown degradation 'hail'" in capsys.readouterr().err
