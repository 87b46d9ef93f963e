"""Every old public name kept for one release: it still works, warns, and says what replaces it.

The next release removes these names (and this file) together.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import baryir.data
import baryir.data.datasets
import baryir.data.degradation_tasks
from baryir.data import RestorationDataModule
from baryir.data.datasets.base import DegradationDataset
from baryir.degradations.adapter import AlbumentationsEffect
from baryir.io.image import list_images
from baryir.models import BaryNet, DualPotentials, create_model, model_config, official, registry


@pytest.mark.parametrize(
    ("module", "name", "new"),
    [
        ("baryir.models.potentials", "DualPotentials", DualPotentials),
        ("baryir.degradations.albumentations", "AlbumentationsEffect", AlbumentationsEffect),
        ("baryir.api", "restore", importlib.import_module("baryir.inference").restore),
    ],
)
def test_old_module_paths(module: str, name: str, new: object) -> None:
    sys.modules.pop(module, None)
    with pytest.warns(DeprecationWarning, match=f"{module} is deprecated.*; use "):
        old = importlib.import_module(module)
    assert getattr(old, name) is new


@pytest.mark.parametrize(
    ("module", "name", "new"),
    [
        (official, "PRESETS", official.RELEASED_PRESETS),
        (baryir.data, "SourceDataset", DegradationDataset),
        (baryir.data.datasets, "SourceDataset", DegradationDataset),
        (baryir.data, "TaskInfo", baryir.data.DegradationTask),
        (baryir.data.degradation_tasks, "TaskInfo", baryir.data.DegradationTask),
    ],
)
def test_old_names(module: object, name: str, new: object) -> None:
    with pytest.warns(DeprecationWarning, match=f"{name} is deprecated.*; use "):
        assert getattr(module, name) is new


@pytest.mark.parametrize(
    ("module", "name", "new"),
    [
        ("baryir.tasks.resilience", "PreemptionCheckpoint", "baryir.tasks.callbacks"),
        ("baryir.tasks.resilience", "RNGStateCallback", "baryir.tasks.callbacks"),
        ("baryir.tasks.resilience", "last_checkpoint_path", "baryir.tasks.callbacks"),
        ("baryir.evaluation.report", "TestReport", "baryir.tasks.callbacks"),
        ("baryir.evaluation.suites", "load_suite", "baryir.data.suites"),
        ("baryir.evaluation.runner", "default_data_root", "baryir.data.datasets.testsets"),
    ],
)
def test_moved_names(module: str, name: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=f"{module}.{name} is deprecated.*; use {new}"):
        found = getattr(importlib.import_module(module), name)
    assert found is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("baryir.data", "SyntheticSource", "SyntheticDataset"),
        ("baryir.data", "PairedSource", "PairedDataset"),
        ("baryir.data", "bundled_source", "bundled_dataset"),
        ("baryir.data.datasets", "layout_sources", "layout_datasets"),
        ("baryir.data.datasets.synthetic", "SyntheticSource", "SyntheticDataset"),
        ("baryir.data.datasets.paired", "PairedSource", "PairedDataset"),
        ("baryir.data.datasets.bundled", "bundled_source", "bundled_dataset"),
        ("baryir.data.datasets.bundled", "bundled_eval_source", "bundled_eval_dataset"),
        ("baryir.data.datasets.layout", "layout_sources", "layout_datasets"),
        ("baryir.data.datasets.cdd11", "cdd11_source", "cdd11_dataset"),
    ],
)
def test_datasets_say_dataset_not_source(module: str, old: str, new: str) -> None:
    """A "source" is a potential's index; the datasets that feed one are datasets."""
    package = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{module}.{old} is deprecated.*; use .*{new}"):
        assert getattr(package, old) is getattr(package, new)


def test_barynetp_is_the_baryir_promptir_preset() -> None:
    from baryir.models import BaryNetP

    with pytest.warns(DeprecationWarning, match="BaryNetP is deprecated"):
        old = BaryNetP(**registry.TINY, **registry.TINY_PROMPTS, num_barycenter_blocks=2)
    assert type(old) is BaryNet
    assert model_config(old) == model_config(create_model("baryir-promptir-tiny"))


def test_find_images_is_a_recursive_list_images(tmp_path: Path) -> None:
    from baryir.data.datasets import find_images

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f.png").write_bytes(b"x")
    with pytest.warns(DeprecationWarning, match="find_images is deprecated"):
        assert find_images(tmp_path) == list_images(tmp_path, recursive=True)
    (tmp_path / "empty").mkdir()
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="no image files"):
        find_images(tmp_path / "empty")


def test_register_model_on_an_entry_function() -> None:
    with pytest.warns(DeprecationWarning, match="register_model on a function is deprecated"):

        @registry.register_model("deprecated-entry")
        def _entry() -> registry.ModelPreset:
            return registry.ModelPreset(BaryNet, {"dim": 8})

    try:
        assert model_config(create_model("deprecated-entry"))["dim"] == 8
    finally:
        registry._MODELS._entries.pop("deprecated-entry")


@pytest.mark.parametrize(
    ("old", "mix_by", "lengths"),
    [("repeats", "repeats", [2 * 64, 64]), ("proportions", "shares", [96, 32])],
)
def test_repeats_and_proportions_are_the_mix(old: str, mix_by: str, lengths: list[int]) -> None:
    """``data.repeats`` / ``data.proportions``: ``data.mix`` read by repeats / by shares, with a
    ``FutureWarning`` (a config field: shown to every user, not only to developers)."""
    weights = {"derain": 2.0} if old == "repeats" else {"derain": 0.75, "dehaze": 0.25}
    kwargs = {"tasks": ["derain", "dehaze"], "patch_size": 16, "num_workers": 0, "val_sets": []}
    with pytest.warns(FutureWarning, match=f"data.{old} is deprecated.*data.mix_by {mix_by}"):
        dm = RestorationDataModule(**kwargs, **{old: weights})
    assert (dm.mix, dm.mix_by) == (weights, mix_by)
    dm.setup("fit")
    assert dm.train_dataset.lengths == lengths
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="give data.mix only"):
        RestorationDataModule(**kwargs, mix=weights, **{old: weights})
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="give data.mix only"):
        RestorationDataModule(**kwargs, repeats=weights, proportions=weights)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="is read by repeats"):
        RestorationDataModule(**kwargs, repeats=weights, mix_by="shares")
