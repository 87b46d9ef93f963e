"""Folder subsets (``Rain100H[0:70]``), synthetic overrides (``haze@folder``), mixture labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from baryir.data.datamodule import RestorationDataModule
from baryir.data.datasets.subset import natural_key
from baryir.data.datasets.testsets import build_test_set


def _png(path: Path, value: int, size: int = 24) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value % 256, np.uint8)).save(path)


@pytest.fixture
def rain(tmp_path: Path) -> Path:
    """Paired folder with pairs 1..12 (plain sorting would give 1, 10, 11, 12, 2, ...)."""
    for i in range(1, 13):
        _png(tmp_path / "Rain100H" / "input" / f"{i}.png", 10 * i)
        _png(tmp_path / "Rain100H" / "target" / f"{i}.png", 10 * i + 1)
    for i in range(5):
        _png(tmp_path / "clean" / f"{i:03d}.png", 7 * i)
    return tmp_path


def test_natural_order() -> None:
    assert sorted(["10", "9", "100", "1"], key=natural_key) == ["1", "9", "10", "100"]


def test_test_set_slices_are_numeric_and_disjoint(rain: Path) -> None:
    first = build_test_set("Rain100H[0:7]", rain)
    rest = build_test_set("Rain100H[7:12]", rain)
    assert first.label == "Rain100H[0:7]"
    assert [first[i]["name"] for i in range(len(first))] == [str(i) for i in range(1, 8)]
    assert [rest[i]["name"] for i in range(len(rest))] == ["8", "9", "10", "11", "12"]
    assert build_test_set("Rain100H[7:12]", rain, max_images=2).image_count == 2
    with pytest.raises(ValueError, match="selects no pair"):
        build_test_set("Rain100H[20:30]", rain)


def test_mixture_spec_on_a_clean_set_gets_a_label(rain: Path) -> None:
    (rain / "clean").rename(rain / "CBSD68")
    mixed = build_test_set("CBSD68[1:3]:noise:25+jpeg:30", rain)
    assert mixed.label == "CBSD68 noise:25+jpeg:30[1:3]"
    assert [mixed[i]["name"] for i in range(2)] == ["001", "002"]
    assert build_test_set("CBSD68:15", rain).label == "CBSD68 noise:15"


def test_folder_overrides_take_subsets_and_synthesise_haze(rain: Path) -> None:
    data = RestorationDataModule(
        tasks=["denoise_25", "derain", "dehaze"],
        folders={
            "noise": str(rain / "clean"),
            "derain": str(rain / "Rain100H[0:7]"),
            "dehaze": f"haze@{rain / 'clean'}[0:3]",
        },
        mix={"noise": 1, "derain": 1, "dehaze": 1},
        patch_size=16,
        batch_size=3,
        num_workers=0,
        val_sets=[],
    )
    data.setup("fit")
    noise, derain, dehaze = data.train_dataset.datasets
    assert noise.image_count == 5 and noise.spec == "noise:25"
    assert [Path(p[0]).stem for p in derain.pairs] == [str(i) for i in range(1, 8)]
    assert dehaze.spec == "haze" and [p.stem for p in dehaze.images] == ["000", "001", "002"]
    item = dehaze[0]
    assert item["input"].shape == (3, 16, 16) and item["source"] == 2
    batch = next(iter(data.train_dataloader()))
    assert sorted(batch["source"].tolist()) == [0, 1, 2]
