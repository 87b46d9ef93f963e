"""CDD-11: compound tasks and their ids, the OneRestore layout on a miniature tree, test sets,
the 11-source DataModule (rotating balanced batches, lambda) and the synthetic stand-in."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from baryir.data.datamodule import RestorationDataModule
from baryir.data.datasets.cdd11 import cdd11_kind, find_cdd11
from baryir.data.datasets.layout import layout_datasets
from baryir.data.datasets.testsets import build_test_set, list_test_sets
from baryir.data.degradation_tasks import CDD11_KINDS, SOURCE_NAMES, TASKS, resolve_tasks
from baryir.degradations import Compose, build_degradation
from cdd11_tree import make_cdd11, png


@pytest.fixture
def cdd(tmp_path: Path) -> Path:
    return make_cdd11(tmp_path / "CDD-11")


def test_compound_tasks_have_their_own_ids_after_the_papers() -> None:
    tasks = resolve_tasks(["cdd11"])
    assert [t.name for t in tasks] == [f"cdd_{kind}" for kind in CDD11_KINDS]
    assert [t.fine_id for t in tasks] == list(range(8, 19))
    assert [t.source for t in tasks] == list(range(6, 17))
    assert all(SOURCE_NAMES[t.source] == t.source_name == t.name for t in tasks)
    # the paper's ids and the clean task are unchanged
    assert [(t.fine_id, t.source) for t in resolve_tasks(["5task"])] == [
        (0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 3), (6, 4)
    ]  # fmt: skip
    assert (TASKS["clean"].fine_id, TASKS["clean"].source) == (7, 5)
    assert resolve_tasks(["CDD-11"]) == tasks
    assert cdd11_kind(TASKS["cdd_low_haze"]) == "low_haze" and cdd11_kind(TASKS["dehaze"]) is None


def test_stand_in_specs_follow_the_physical_order() -> None:
    assert TASKS["cdd_low_haze_snow"].synthetic == "haze+snow+lowlight"
    assert TASKS["cdd_low_rain"].synthetic == "rain+lowlight"
    for kind in CDD11_KINDS:
        degradation = build_degradation(TASKS[f"cdd_{kind}"].synthetic)
        names = (
            [d.name for d in degradation.degradations]
            if isinstance(degradation, Compose)
            else [degradation.name]
        )
        expected = {"low": "lowlight", "haze": "haze", "rain": "rain", "snow": "snow"}
        assert sorted(names) == sorted(expected[part] for part in kind.split("_"))


@pytest.mark.parametrize(
    "where",
    ["", "train", "CDD-11", "CDD-11/train", "Train/CDD11", "train/cdd_11/train"],
)
def test_find_cdd11_in_the_usual_places(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where if where else tmp_path
    png(folder / "clear" / "1.png", 0)
    png(folder / "low" / "1.png", 1)
    assert find_cdd11(tmp_path, "train") == folder


def test_find_cdd11_error_names_the_expected_layout(tmp_path: Path) -> None:
    png(tmp_path / "train" / "low" / "1.png", 1)
    with pytest.raises(FileNotFoundError, match="CDD-11 train data not found.*clear/"):
        find_cdd11(tmp_path, "train")


def test_layout_pairs_by_file_name_and_skips_unpaired(cdd: Path, caplog) -> None:
    png(cdd / "train" / "rain" / "orphan.png", 9)
    with caplog.at_level(logging.WARNING):
        sources = layout_datasets(cdd, resolve_tasks(["cdd11"]), patch_size=16)
    assert [s.task for s in sources] == [f"cdd_{kind}" for kind in CDD11_KINDS]
    assert all(len(s) == 2 for s in sources)
    rain = sources[CDD11_KINDS.index("rain")]
    assert [(a.parent.name, b.parent.name, a.name == b.name) for a, b in rain.pairs] == [
        ("rain", "clear", True)
    ] * 2
    assert "orphan.png" in caplog.text
    item = rain[0]
    assert item["input"].shape == (3, 16, 16) and item["name"].startswith("rain/train")
    assert (item["degradation"], item["source"]) == (10, 8)


def test_test_sets_by_kind_and_all(cdd: Path, tmp_path: Path) -> None:
    assert "CDD11" in list_test_sets()
    one = build_test_set("CDD11:low_haze_rain", tmp_path)
    assert one.label == "CDD11 low_haze_rain" and len(one) == 1
    item = one[0]
    assert item["name"] == "low_haze_rain/test0"
    clear = build_test_set("CDD11:low", cdd)[0]["target"]
    assert torch.equal(item["target"], clear) and not torch.equal(item["input"], clear)
    everything = build_test_set("cdd-11:all", cdd)
    assert everything.label == "CDD11 all" and len(everything) == 11
    assert len({everything[i]["name"] for i in range(11)}) == 11
    with pytest.raises(ValueError, match="unknown CDD-11 kind 'fog'.*low_haze_snow, all"):
        build_test_set("CDD11:fog", cdd)
    with pytest.raises(ValueError, match="CDD11 needs a kind"):
        build_test_set("CDD11", cdd)


def test_datamodule_mixes_eleven_sources_with_rotating_balanced_batches(cdd: Path) -> None:
    dm = RestorationDataModule(
        root=str(cdd.parent),
        tasks=["cdd11"],
        patch_size=16,
        batch_size=4,
        num_workers=0,
        val_sets=["CDD11:low", "CDD11:all"],
    )
    dm.setup("fit")
    assert dm.source_names == [f"cdd_{kind}" for kind in CDD11_KINDS]
    assert dm.train_dataset is not None and dm.train_dataset.lengths == [2] * 11
    torch.testing.assert_close(dm.source_weights, torch.full((11,), 1 / 11))
    batches = list(dm.train_dataloader())
    assert len(batches) == 22 // 4
    for batch in batches:
        assert batch["input"].shape == (4, 3, 16, 16)
        assert len(set(batch["source"].tolist())) == 4
    assert dm.val_labels == ["CDD11 low", "CDD11 all"]


def test_lambda_follows_the_epoch_lengths_of_the_sources(cdd: Path) -> None:
    png(cdd / "train" / "clear" / "extra.png", 7)
    png(cdd / "train" / "snow" / "extra.png", 8)
    dm = RestorationDataModule(
        root=str(cdd), tasks=["cdd11"], patch_size=16, batch_size=3, num_workers=0, val_sets=[]
    )
    dm.setup("fit")
    counts = torch.tensor([3.0 if kind == "snow" else 2.0 for kind in CDD11_KINDS])
    torch.testing.assert_close(dm.source_weights, (1 / counts) / (1 / counts).sum())


def test_synthetic_stand_in_on_the_bundled_photos() -> None:
    dm = RestorationDataModule(
        tasks=["cdd11"], patch_size=16, batch_size=4, num_workers=0, bundled_train_size=2
    )
    dm.setup("fit")
    assert len(dm.source_names) == 11 and len(dm.train_dataset) == 22
    batch = next(iter(dm.train_dataloader()))
    assert len(set(batch["source"].tolist())) == 4
    assert not torch.equal(batch["input"], batch["target"])
    assert dm.val_labels[:2] == ["bundled-val cdd_low", "bundled-val cdd_haze"]
