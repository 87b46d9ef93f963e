"""Evaluation sets: seeded synthetic inputs, named sets in the shared data and paper layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.data.datasets.testsets import build_test_set, default_data_root


def _png(path: Path, value: int, size: int = 16) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(path)


@pytest.fixture
def clean_folder(tmp_path: Path) -> Path:
    for i, name in enumerate(("b", "a", "c")):
        _png(tmp_path / "CBSD68" / f"{name}.png", 100 + i)
    return tmp_path


def test_noise_is_seeded_by_name_not_position(clean_folder: Path, tmp_path: Path) -> None:
    first = build_test_set("CBSD68:25", clean_folder)
    second = build_test_set("CBSD68:25", clean_folder)
    assert first.label == "CBSD68 noise:25"
    assert [first[i]["name"] for i in range(3)] == ["a", "b", "c"]  # sorted
    for i in range(3):
        assert torch.equal(first[i]["input"], second[i]["input"])
    # the same file in another folder, at another position, gets the same noise
    _png(tmp_path / "other" / "0.png", 0)
    (tmp_path / "other" / "c.png").write_bytes((clean_folder / "CBSD68" / "c.png").read_bytes())
    moved = build_test_set("noise:25@" + str(tmp_path / "other"))
    assert moved[1]["name"] == "c"
    assert torch.equal(moved[1]["input"], first[2]["input"])
    assert not torch.equal(
        first[0]["input"] - first[0]["target"], first[1]["input"] - first[1]["target"]
    )
    assert not torch.equal(
        build_test_set("CBSD68:25", clean_folder, seed=1)[0]["input"], first[0]["input"]
    )


def test_clean_set_needs_degradation_and_unknown_name(clean_folder: Path) -> None:
    with pytest.raises(ValueError, match="CBSD68:25"):
        build_test_set("CBSD68", clean_folder)
    with pytest.raises(ValueError, match="unknown test set 'Set5'"):
        build_test_set("Set5", clean_folder)
    with pytest.raises(FileNotFoundError, match="Kodak24 not found"):
        build_test_set("Kodak24:25", clean_folder)


def test_paper_layout_test_folders(tmp_path: Path) -> None:
    test = tmp_path / "data" / "test"
    _png(test / "denoise" / "bsd68" / "x.png", 100)
    _png(test / "derain" / "Rain100L" / "input" / "1.png", 200)
    _png(test / "derain" / "Rain100L" / "target" / "1.png", 100)
    _png(test / "dehaze" / "input" / "0001_0.8_0.2.jpg", 200)
    _png(test / "dehaze" / "target" / "0001.png", 100)
    _png(test / "lowlight" / "low" / "1.png", 10)
    _png(test / "lowlight" / "high" / "1.png", 100)
    root = tmp_path / "data"
    assert build_test_set("BSD68:50", root).label == "CBSD68 noise:50"
    assert len(build_test_set("Rain100L", root)) == 1
    assert build_test_set("SOTS-outdoor", root)[0]["name"] == "0001_0.8_0.2"
    assert build_test_set("LOL-v1", root)[0]["input"].shape == (3, 16, 16)
    folder = build_test_set(str(test / "derain" / "Rain100L"))
    assert folder.label == "Rain100L" and len(folder) == 1


def test_the_data_root_is_the_argument_else_baryir_data_only(
    clean_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No folder is guessed: not the working directory, not a ``shared/data`` beside a repo."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text("")
    _png(tmp_path / "shared" / "data" / "CBSD68" / "a.png", 100)
    monkeypatch.chdir(repo)
    monkeypatch.delenv("BARYIR_DATA")
    assert default_data_root() is None
    with pytest.raises(ValueError, match="CBSD68 needs a data root: set BARYIR_DATA=/path/to/data"):
        build_test_set("CBSD68:25")
    monkeypatch.setenv("BARYIR_DATA", str(clean_folder))
    assert default_data_root() == clean_folder
    assert [item["name"] for item in build_test_set("CBSD68:25")] == ["a", "b", "c"]
    assert len(build_test_set("CBSD68:25", tmp_path / "shared" / "data")) == 1  # the argument wins


def test_max_images_and_crop(clean_folder: Path) -> None:
    dataset = build_test_set("CBSD68:15", clean_folder, max_images=2, crop=8)
    assert len(dataset) == 2 and dataset[0]["input"].shape == (3, 8, 8)


def _need(shared: Path, name: str) -> Path:
    if not (shared / name).is_dir():
        pytest.skip(f"{name} not found at {shared / name}")
    return shared


def test_shared_cbsd68(shared_data: Path) -> None:
    dataset = build_test_set("CBSD68:25", _need(shared_data, "CBSD68"))
    assert len(dataset) == 68 and dataset.label == "CBSD68 noise:25"
    item = dataset[0]
    assert item["input"].shape == item["target"].shape and item["name"] == "101085"
    noise = (item["input"] - item["target"]) * 255
    assert 20 < float(noise.std()) < 27  # clipping shrinks it a little


def test_shared_rain100h(shared_data: Path) -> None:
    dataset = build_test_set("Rain100H", _need(shared_data, "Rain100H"))
    assert len(dataset) == 100 and dataset.label == "Rain100H"
    assert dataset[0]["input"].shape == dataset[0]["target"].shape


def test_shared_sots_jpg_png(shared_data: Path) -> None:
    dataset = build_test_set("SOTS-outdoor", _need(shared_data, "SOTS-outdoor"))
    assert [(a.name, b.name) for a, b in dataset.pairs] == [
        ("0001.jpg", "0001.png"),
        ("0002.jpg", "0002.png"),
    ]


def test_shared_kodak_mcmaster(shared_data: Path) -> None:
    kodak = build_test_set("Kodak24:50", _need(shared_data, "Kodak24"), max_images=1)
    assert kodak.label == "Kodak24 noise:50" and kodak[0]["target"].shape[0] == 3
    assert len(build_test_set("Kodak24:15", shared_data)) == 24
    mcmaster = build_test_set("McMaster:25", _need(shared_data, "McMaster"))
    assert len(mcmaster) == 18 and mcmaster[0]["target"].shape == (3, 500, 500)
