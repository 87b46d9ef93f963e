"""RestorationDataModule on a miniature paper layout and on the bundled default."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.data.datamodule import DO_NO_HARM, RestorationDataModule
from baryir.data.datasets.bundled import BUNDLED_TRAIN
from baryir.data.datasets.paired import PairedDataset
from baryir.data.datasets.synthetic import SyntheticDataset
from baryir.data.samplers import SourceBalancedBatchSampler


def _img(path: Path, seed: int, size: tuple[int, int] = (40, 48)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(path)


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    train = tmp_path / "data" / "Train"
    for i in range(4):
        _img(train / "Denoise" / f"{i}.png", i)
    for i in range(1, 4):
        _img(train / "Derain" / "rainy" / f"rain-{i:03d}.png", 10 + i)
        _img(train / "Derain" / "gt" / f"norain-{i:03d}.png", 20 + i)
    for i in range(1, 3):
        _img(train / "Dehaze" / "synthetic" / "part1" / f"{i:04d}_0.8_0.2.jpg", 30 + i)
        _img(train / "Dehaze" / "original" / f"{i:04d}.jpg", 40 + i)
    test = tmp_path / "data" / "test"
    for i in range(3):
        _img(test / "denoise" / "bsd68" / f"{i}.png", 50 + i)
    _img(test / "derain" / "Rain100L" / "input" / "1.png", 60)
    _img(test / "derain" / "Rain100L" / "target" / "1.png", 61)
    return tmp_path / "data"


def _check_batch(batch: dict, batch_size: int, patch: int) -> None:
    assert set(batch) == {"input", "target", "degradation", "source", "name"}
    for key in ("input", "target"):
        assert batch[key].shape == (batch_size, 3, patch, patch)
        assert batch[key].dtype == torch.float32
        assert float(batch[key].min()) >= 0 and float(batch[key].max()) <= 1
    assert batch["degradation"].dtype == batch["source"].dtype == torch.int64
    assert batch["degradation"].shape == (batch_size,)
    assert isinstance(batch["name"], list) and len(batch["name"]) == batch_size


def test_paper_layout_datamodule(layout: Path) -> None:
    dm = RestorationDataModule(
        root=str(layout), patch_size=16, batch_size=6, num_workers=0, val_max_images=2
    )
    dm.setup("fit")
    assert dm.source_names == ["noise", "rain", "haze"]
    assert dm.degradation_names == ["denoise_15", "denoise_25", "denoise_50", "derain", "dehaze"]
    assert dm.train_dataset is not None
    assert dm.train_dataset.lengths == [20, 20, 20, 3 * 360, 2]  # the paper's repeats
    inverse = torch.tensor([1 / 60, 1 / 1080, 1 / 2])
    torch.testing.assert_close(dm.source_weights, inverse / inverse.sum())
    loader = dm.train_dataloader()
    assert isinstance(loader.batch_sampler, SourceBalancedBatchSampler)
    batch = next(iter(loader))
    _check_batch(batch, 6, 16)
    assert set(batch["source"].tolist()) == {0, 1, 2}
    table = dm.summary()
    assert "derain" in table and "360.00" in table and "balanced" in table
    # validation: the standard sets found in data/test (missing SOTS is skipped), then the
    # "do no harm" rows on CBSD68
    assert dm.val_labels == [
        "CBSD68 noise:15",
        "CBSD68 noise:25",
        "CBSD68 noise:50",
        "Rain100L",
        "CBSD68 clean",
        "CBSD68 noise:5",
        "CBSD68 jpeg:40",
    ]
    val = dm.val_dataloader()
    assert len(val) == 7 and len(val[0]) == 2
    item = next(iter(val[3]))
    assert item["input"].shape == (1, 3, 40, 48) and int(item["degradation"]) == 3


def test_folder_override_without_root_keeps_bundled_photos_for_the_others(layout: Path) -> None:
    """``folders`` alone replaces the named tasks' data; the others keep the bundled photos."""
    dm = RestorationDataModule(
        tasks=["denoise_25", "derain"],
        folders={"derain": str(layout / "Train" / "Derain")},
        patch_size=16,
        batch_size=2,
        num_workers=0,
        val_sets=[],
    )
    dm.setup("fit")
    noise, rain = dm.train_dataset.datasets
    assert isinstance(noise, SyntheticDataset) and noise.task == "denoise_25"
    assert {image.name for image in noise.images} == set(BUNDLED_TRAIN)
    assert isinstance(rain, PairedDataset) and rain.task == "derain" and len(rain) == 3
    # each keeps its own default repeat: 1 on the bundled photos, the paper's on a folder
    assert dm.train_dataset.lengths == [len(noise), 3 * dm.tasks[1].repeat]


def test_mix_by_repeats_and_shares_and_folder_override(layout: Path, tmp_path: Path) -> None:
    dm = RestorationDataModule(
        root=str(layout),
        tasks=["rain", "haze"],
        mix={"derain": 2},
        patch_size=16,
        batch_size=2,
        num_workers=0,
        val_sets=[],
    )
    dm.setup("fit")
    assert dm.train_dataset.lengths == [6, 2]
    assert dm.source_names == ["rain", "haze"] and dm.degradation_names == ["derain", "dehaze"]
    assert next(iter(dm.train_dataloader()))["source"].sort().values.tolist() == [0, 1]
    dm = RestorationDataModule(
        root=None,
        tasks=["denoise_25"],
        folders={"noise": str(layout / "Train" / "Denoise")},
        mix={"denoise_25": 1.0},
        mix_by="shares",
        patch_size=16,
        batch_size=2,
        num_workers=0,
        val_sets=[],
    )
    dm.setup("fit")
    assert dm.train_dataset.lengths == [4]


def test_bad_config_fails_early(layout: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown task 'desnow'; valid tasks: denoise_15"):
        RestorationDataModule(tasks=["desnow"])
    with pytest.raises(ValueError, match="data.mix names"):
        RestorationDataModule(mix={"deblur": 3})
    with pytest.raises(ValueError, match=r"gives no share to the tasks \['dehaze'\]"):
        RestorationDataModule(tasks=["derain", "dehaze"], mix={"derain": 1.0}, mix_by="shares")
    with pytest.raises(ValueError, match="data.mix_by must be 'repeats' or 'shares'"):
        RestorationDataModule(mix_by="weights")
    with pytest.raises(FileNotFoundError, match="missing"):
        RestorationDataModule(root=str(tmp_path / "missing")).setup("fit")
    with pytest.raises(FileNotFoundError, match="no folder for task deblur"):
        RestorationDataModule(root=str(layout), tasks=["deblur"], batch_size=1).setup("fit")


def test_rank_and_world_from_trainer(layout: Path) -> None:
    dm = RestorationDataModule(
        root=str(layout), patch_size=16, batch_size=4, num_workers=0, val_sets=[]
    )
    dm.trainer = SimpleNamespace(world_size=2, global_rank=1)
    sampler = dm.train_dataloader().batch_sampler
    assert (sampler.num_replicas, sampler.rank) == (2, 1)


def test_bundled_default() -> None:
    dm = RestorationDataModule(num_workers=0, batch_size=4, patch_size=32, bundled_train_size=8)
    dm.setup("fit")
    assert len(dm.train_dataset) == 5 * 8
    batch = next(iter(dm.train_dataloader()))
    _check_batch(batch, 4, 32)
    assert set(batch["source"].tolist()) == {0, 1, 2}
    assert set(batch["name"]) <= set(BUNDLED_TRAIN)
    labels = dm.val_labels
    assert labels[0] == "bundled-val denoise_15" and len(labels) == 5 + len(DO_NO_HARM)
    first = dm.val_datasets[0][0]
    assert first["name"] == "chelsea" and first["input"].shape == (3, 256, 256)
    again = RestorationDataModule(num_workers=0, batch_size=4)
    again.setup("validate")
    assert torch.equal(again.val_datasets[0][0]["input"], first["input"])
    assert not torch.equal(dm.val_datasets[1][0]["input"], first["input"])
    dm.setup("test")
    assert dm.test_datasets[3][0]["input"].shape == (3, 300, 451)


def test_workers_reproducible_per_seed_and_differ_across_epochs() -> None:
    dm = RestorationDataModule(
        num_workers=2,
        batch_size=4,
        patch_size=16,
        bundled_train_size=8,
        tasks=["denoise_50"],
        persistent_workers=False,
    )
    dm.setup("fit")
    loader = dm.train_dataloader()

    def epoch() -> torch.Tensor:
        return torch.cat([b["input"] - b["target"] for b in loader])

    torch.manual_seed(0)
    first, second = epoch(), epoch()
    torch.manual_seed(0)
    assert torch.equal(epoch(), first)
    assert not torch.equal(first, second)


def test_row_labels_are_unique_as_the_task_names_them() -> None:
    dm = RestorationDataModule(num_workers=0, val_sets=[])
    dm.val_datasets = dm.test_datasets = [SimpleNamespace(label="mine")] * 2
    assert dm.val_labels == dm.test_labels == ["mine", "mine #2"]
