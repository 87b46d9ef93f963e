"""The callbacks live in one place (``baryir.tasks.callbacks``); the old paths still work, with a
deprecation warning, and the logger configs name the one place."""

from __future__ import annotations

from pathlib import Path

from baryir.tasks import callbacks

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_every_callback_is_exported_from_the_one_place() -> None:
    classes = [getattr(callbacks, name) for name in callbacks.__all__]
    for found in (c for c in classes if isinstance(c, type)):
        assert found.__module__.startswith("baryir.tasks.callbacks."), found
    logger_configs = "".join(path.read_text() for path in (CONFIGS / "logger").glob("*.yaml"))
    assert "baryir.tasks.callbacks." in logger_configs
