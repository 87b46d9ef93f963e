"""The callbacks live in one place (``baryir.tasks.callbacks``); the old paths still work, with a
deprecation warning, and the logger configs name the one place."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from baryir.tasks import callbacks

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("baryir.tasks.resilience", "PreemptionCheckpoint"),
        ("baryir.tasks.resilience", "RNGStateCallback"),
        ("baryir.tasks.resilience", "last_checkpoint_path"),
        ("baryir.evaluation.report", "TestReport"),
        ("baryir.evaluation.suites", "load_suite"),
        ("baryir.evaluation.runner", "default_data_root"),
    ],
)
def test_old_paths_are_deprecated_aliases(module: str, name: str) -> None:
    with pytest.warns(DeprecationWarning, match="moved to"):
        found = getattr(importlib.import_module(module), name)
    new = {"load_suite": "baryir.data.suites", "default_data_root": "baryir.data.datasets.testsets"}
    assert found is getattr(importlib.import_module(new.get(name, "baryir.tasks.callbacks")), name)


def test_every_callback_is_exported_from_the_one_place() -> None:
    classes = [getattr(callbacks, name) for name in callbacks.__all__]
    for found in (c for c in classes if isinstance(c, type)):
        assert found.__module__.startswith("baryir.tasks.callbacks."), found
    logger_configs = "".join(path.read_text() for path in (CONFIGS / "logger").glob("*.yaml"))
    assert "baryir.tasks.callbacks." in logger_configs
