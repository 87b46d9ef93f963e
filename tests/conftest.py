"""Shared fixtures: where the shared data lives, and quiet, deterministic defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """``$BARYIR_DATA`` (the library's data root) defaults to ``../shared/data`` beside the
    repository, for the tests and the commands they run."""
    os.environ.setdefault("BARYIR_DATA", str(REPO.parent / "shared" / "data"))


def shared_data_dir() -> Path:
    """The shared test data folder: ``$BARYIR_DATA``, set by :func:`pytest_configure`."""
    return Path(os.environ["BARYIR_DATA"])


@pytest.fixture
def shared_data() -> Path:
    """The shared test data folder; skips the test with the reason when it is absent."""
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root} (set BARYIR_DATA)")
    return root


@pytest.fixture(autouse=True)
def _offline_wandb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", os.environ.get("WANDB_MODE", "offline"))
