"""Shared fixtures: where the shared data lives, and quiet, deterministic defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$BARYIR_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("BARYIR_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The shared test data folder; skips the test with the reason when it is absent."""
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"shared data not found at {root} (set BARYIR_SHARED_DATA)")
    return root


@pytest.fixture(autouse=True)
def _offline_wandb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", os.environ.get("WANDB_MODE", "offline"))
