"""The callbacks live in one place (``baryir.tasks.callbacks``) and the logger configs name it;
the ``baryir`` command's progress bar is the interval one unless the config says otherwise."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch import Callback
from lightning.pytorch.callbacks import TQDMProgressBar

from baryir.cli import main
from baryir.tasks import callbacks
from tiny_run import add_callbacks, tiny_fit_args

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_every_callback_is_exported_from_the_one_place() -> None:
    classes = [getattr(callbacks, name) for name in callbacks.__all__]
    for found in (c for c in classes if isinstance(c, type)):
        assert found.__module__.startswith("baryir.tasks.callbacks."), found
    logger_configs = "".join(path.read_text() for path in (CONFIGS / "logger").glob("*.yaml"))
    assert "baryir.tasks.callbacks." in logger_configs


class _SeeBar(Callback):
    """The trainer's progress bar, seen at the start of fit."""

    def __init__(self) -> None:
        self.bar: object = "not run"

    def on_fit_start(self, trainer, pl_module) -> None:
        self.bar = trainer.progress_bar_callback


def test_the_command_shows_the_interval_bar_unless_told_otherwise(monkeypatch, tmp_path) -> None:
    seen = _SeeBar()
    add_callbacks(monkeypatch, seen)
    main(tiny_fit_args(tmp_path / "a", 1, "--trainer.enable_progress_bar", "true"))
    assert type(seen.bar) is callbacks.IntervalProgressBar
    main(tiny_fit_args(tmp_path / "b", 1))  # the tiny config turns the bar off
    assert seen.bar is None
    own = TQDMProgressBar(refresh_rate=5)
    add_callbacks(monkeypatch, seen, own)
    main(tiny_fit_args(tmp_path / "c", 1, "--trainer.enable_progress_bar", "true"))
    assert seen.bar is own
