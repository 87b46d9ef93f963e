"""Task table and the pairing rules of every naming scheme."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from baryir.data.datasets.files import find_pairs, pair_key
from baryir.data.datasets.paired import PairedDataset
from baryir.data.degradation_tasks import CDD11_KINDS, TASKS, resolve_task, resolve_tasks


def _png(path: Path, size: tuple[int, int] = (24, 20), value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def test_task_table_matches_release_ids() -> None:
    ids = {name: (t.fine_id, t.source) for name, t in TASKS.items()}
    assert ids == {
        "denoise_15": (0, 0),
        "denoise_25": (1, 0),
        "denoise_50": (2, 0),
        "derain": (3, 1),
        "dehaze": (4, 2),
        "deblur": (5, 3),
        "lowlight": (6, 4),
        "clean": (7, 5),
        **{f"cdd_{kind}": (8 + i, 6 + i) for i, kind in enumerate(CDD11_KINDS)},
    }


def test_task_aliases_expand_in_table_order() -> None:
    names = [t.name for t in resolve_tasks(["rain", "denoise", "LOL"])]
    assert names == ["denoise_15", "denoise_25", "denoise_50", "derain", "lowlight"]
    assert resolve_task("Dehazing").name == "dehaze"


def test_unknown_task_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown task 'desnow'.*denoise_15.*lowlight"):
        resolve_tasks(["desnow"])


@pytest.mark.parametrize(
    ("stem", "key"),
    [
        ("rain-001", "001"),
        ("norain-001", "001"),
        ("rain_12", "12"),
        ("0001_0.8_0.2", "0001"),
        ("1400_1_0.04", "1400"),
        ("0001", "0001"),
        ("kodim01", "kodim01"),
        ("rainbow", "rainbow"),
    ],
)
def test_pair_key(stem: str, key: str) -> None:
    assert pair_key(stem) == key


def test_rain_prefix_pairs(tmp_path: Path) -> None:
    for i in (1, 2):
        _png(tmp_path / "rainy" / f"rain-{i:03d}.png")
        _png(tmp_path / "gt" / f"norain-{i:03d}.png")
    pairs, unpaired, unused = find_pairs(tmp_path / "rainy", tmp_path / "gt")
    assert [(a.name, b.name) for a, b in pairs] == [
        ("rain-001.png", "norain-001.png"),
        ("rain-002.png", "norain-002.png"),
    ]
    assert unpaired == unused == []


def test_sots_stems_many_inputs_one_target(tmp_path: Path) -> None:
    _png(tmp_path / "synthetic" / "part1" / "0001_0.8_0.2.jpg")
    _png(tmp_path / "synthetic" / "part2" / "0001_0.85_0.04.jpg")
    _png(tmp_path / "synthetic" / "part1" / "0002_1_0.08.jpg")
    _png(tmp_path / "original" / "0001.jpg")
    _png(tmp_path / "original" / "0002.png")
    _png(tmp_path / "original" / "0003.png")
    pairs, unpaired, unused = find_pairs(tmp_path / "synthetic", tmp_path / "original")
    assert sorted((a.name, b.name) for a, b in pairs) == [
        ("0001_0.85_0.04.jpg", "0001.jpg"),
        ("0001_0.8_0.2.jpg", "0001.jpg"),
        ("0002_1_0.08.jpg", "0002.png"),
    ]
    assert unpaired == [] and [p.name for p in unused] == ["0003.png"]


def test_scene_folders_pair_by_relative_path(tmp_path: Path) -> None:
    for scene in ("GOPR0372", "GOPR0384"):
        _png(tmp_path / "blur" / scene / "000047.png")
        _png(tmp_path / "sharp" / scene / "000047.png")
    pairs, _, _ = find_pairs(tmp_path / "blur", tmp_path / "sharp")
    assert [(a.parent.name, b.parent.name) for a, b in pairs] == [
        ("GOPR0372", "GOPR0372"),
        ("GOPR0384", "GOPR0384"),
    ]


@pytest.mark.parametrize(
    ("input_dir", "target_dir"),
    [
        ("input", "target"),
        ("rainy", "gt"),
        ("low", "high"),
        ("blur", "sharp"),
        ("synthetic", "original"),
        ("degraded", "target"),
    ],
)
def test_paired_folder_names_are_detected(tmp_path: Path, input_dir: str, target_dir: str) -> None:
    _png(tmp_path / input_dir / "a.png", value=10)
    _png(tmp_path / target_dir / "a.png", value=200)
    source = PairedDataset.from_folder(tmp_path, patch_size=None, train=False)
    item = source[0]
    assert item["name"] == "a"
    assert item["input"].mean() < item["target"].mean()


def test_configurable_folder_names(tmp_path: Path) -> None:
    _png(tmp_path / "hazy_imgs" / "x.png")
    _png(tmp_path / "clear_imgs" / "x.png")
    source = PairedDataset.from_folder(
        tmp_path, "hazy_imgs", "clear_imgs", patch_size=None, train=False
    )
    assert len(source) == 1
