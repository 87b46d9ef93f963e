"""Each bad-input case gives its documented outcome, and messages name the file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.data.datasets.paired import PairedDataset
from baryir.data.datasets.synthetic import SyntheticDataset
from baryir.io.image import ImageReadError


def _save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _rgb(path: Path, h: int = 20, w: int = 24, value: int = 100) -> Path:
    return _save(path, np.full((h, w, 3), value, np.uint8))


def test_missing_folder_names_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        SyntheticDataset.from_folder(tmp_path / "nowhere", "noise:25")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        PairedDataset.from_folder(tmp_path / "nowhere")


def test_missing_side_names_expected_folder(tmp_path: Path) -> None:
    _rgb(tmp_path / "input" / "a.png")
    with pytest.raises(FileNotFoundError, match="target folder not found.*gt"):
        PairedDataset.from_folder(tmp_path)


def test_empty_folder_fails(tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "notes.txt").write_text("no images")
    with pytest.raises(ValueError, match="no image files.*clean"):
        SyntheticDataset.from_folder(tmp_path / "clean", "noise:25")


def test_unpaired_inputs_skipped_with_count(tmp_path: Path, caplog) -> None:
    _rgb(tmp_path / "input" / "a.png")
    _rgb(tmp_path / "input" / "b.png")
    _rgb(tmp_path / "target" / "a.png")
    with caplog.at_level(logging.WARNING):
        source = PairedDataset.from_folder(tmp_path, patch_size=8)
    assert len(source) == 1
    assert "skipped 1 inputs without a target" in caplog.text and "b.png" in caplog.text


def test_size_mismatch_skipped_and_all_bad_fails(tmp_path: Path, caplog) -> None:
    _rgb(tmp_path / "input" / "a.png", 20, 24)
    _rgb(tmp_path / "target" / "a.png", 20, 30)
    _rgb(tmp_path / "input" / "b.png")
    _rgb(tmp_path / "target" / "b.png")
    with caplog.at_level(logging.WARNING):
        source = PairedDataset.from_folder(tmp_path, patch_size=8)
    assert [p[0].name for p in source.pairs] == ["b.png"]
    assert "pairs of different sizes" in caplog.text and "a.png 24x20" in caplog.text
    (tmp_path / "input" / "b.png").unlink()
    with pytest.raises(ValueError, match="no valid input/target pair"):
        PairedDataset.from_folder(tmp_path, patch_size=8)


def test_unreadable_header_skipped(tmp_path: Path, caplog) -> None:
    _rgb(tmp_path / "clean" / "good.png")
    (tmp_path / "clean" / "empty.png").write_bytes(b"")
    (tmp_path / "clean" / "text.jpg").write_bytes(b"this is not a jpeg")
    with caplog.at_level(logging.WARNING):
        source = SyntheticDataset.from_folder(tmp_path / "clean", "noise:25", patch_size=8)
    assert len(source) == 1
    assert "skipped 2 unreadable images" in caplog.text
    assert "empty.png" in caplog.text and "text.jpg" in caplog.text


def _truncated(path: Path) -> Path:
    _save(path, np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_truncated_file_replaced_in_training(tmp_path: Path, caplog) -> None:
    _truncated(tmp_path / "clean" / "a.png")
    _rgb(tmp_path / "clean" / "b.png", 64, 64)
    source = SyntheticDataset.from_folder(tmp_path / "clean", "noise:25", patch_size=16)
    assert len(source) == 2  # header is fine: found only when decoding
    with caplog.at_level(logging.WARNING):
        item = source[0]
    assert item["name"] == "b" and "a.png" in caplog.text


def test_truncated_file_raises_in_evaluation(tmp_path: Path) -> None:
    _truncated(tmp_path / "clean" / "a.png")
    source = SyntheticDataset.from_folder(
        tmp_path / "clean", "noise:25", patch_size=None, train=False
    )
    with pytest.raises(ImageReadError, match="a.png"):
        source[0]


def test_odd_modes_are_converted(tmp_path: Path) -> None:
    folder = tmp_path / "clean"
    _save(folder / "gray.png", np.full((20, 20), 50, np.uint8))
    _save(folder / "rgba.png", np.full((20, 20, 4), 60, np.uint8))
    _save(folder / "deep.png", np.full((20, 20), 40000, np.uint16))
    Image.fromarray(np.full((20, 20), 3, np.uint8)).convert("P").save(folder / "pal.png")
    source = SyntheticDataset.from_folder(folder, "noise:15", patch_size=None, train=False)
    for i in range(len(source)):
        item = source[i]
        assert item["target"].shape == (3, 20, 20) and item["target"].dtype == torch.float32
        assert 0 <= float(item["target"].min()) <= float(item["target"].max()) <= 1
    names = [source.name(i) for i in range(len(source))]
    deep = source[names.index("deep")]["target"]
    torch.testing.assert_close(deep, torch.full_like(deep, 40000 / 65535))


def test_small_images_padded_in_training(tmp_path: Path) -> None:
    _rgb(tmp_path / "input" / "a.png", 10, 12)
    _rgb(tmp_path / "target" / "a.png", 10, 12)
    item = PairedDataset.from_folder(tmp_path, patch_size=32)[0]
    assert item["input"].shape == item["target"].shape == (3, 32, 32)
