"""Experiment tracking from the configs: W&B (offline without credentials), TensorBoard, CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from baryir.cli import main
from baryir.tasks.callbacks import ValidationImageLogger, git_revision, wandb_mode

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "conf" / "tiny.yaml"
LOGGERS = REPO / "configs" / "logger"
TERMS = ("loss", "pixel", "transport", "orthogonality", "contrast", "sinkhorn")


def fit_with_logger(tmp_path: Path, logger_config: str, *extra: str) -> None:
    """4 steps of the tiny config with ``configs/logger/<logger_config>`` added after it."""
    main(
        [
            "fit",
            "--config",
            str(TINY),
            "--trainer.callbacks.init_args.dirpath",
            str(tmp_path / "checkpoints"),
            "--config",
            str(LOGGERS / logger_config),
            *extra,
            "--trainer.max_steps=4",
            "--trainer.val_check_interval=4",
            f"--trainer.default_root_dir={tmp_path}",
            f"--trainer.logger.init_args.save_dir={tmp_path}",
            "--trainer.callbacks.init_args.every_n_steps=2",
            "--trainer.callbacks.init_args.num_images=2",
        ]
    )


def test_wandb_mode_offline_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    netrc = tmp_path / "netrc"
    monkeypatch.setenv("NETRC", str(netrc))
    assert wandb_mode() == "offline"
    netrc.write_text("machine example.com login a password b\n")
    assert wandb_mode() == "offline"
    netrc.write_text("machine api.wandb.ai login user password secret\n")
    netrc.chmod(0o600)
    assert wandb_mode() is None
    netrc.unlink()
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert wandb_mode() is None
    monkeypatch.delenv("WANDB_API_KEY")
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode() is None


def test_git_revision(tmp_path: Path) -> None:
    assert git_revision(tmp_path) == "unknown"
    revision = git_revision()
    assert revision == "unknown" or len(revision) == 40


def test_image_logger_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="every_n_steps"):
        ValidationImageLogger(every_n_steps=0)


def test_wandb_run_offline_logs_scalars_images_and_run_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wandb

    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    try:
        fit_with_logger(tmp_path, "wandb.yaml")
    finally:
        wandb.finish()
        wandb.teardown()  # stops the W&B service, which flushes the run's transaction log
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    (records,) = run_dir.glob("run-*.wandb")
    data = records.read_bytes()
    expected = [f"train/{term}" for term in TERMS] + [
        "val/psnr",
        "val/bundled-val derain/psnr",
        "lr-Adam",
        "val/images",
        "run/git_revision",
        "run/wb_solver",
        "run/data_summary",
        "cli",
    ]
    missing = [key for key in expected if key.encode() not in data]
    assert not missing, f"not in the W&B run ({len(data)} bytes): {missing}"
    # Steps 2 and 4 (the end logs nothing new), 2 triplets each, 48x48 crops side by side.
    images = sorted((run_dir / "files" / "media" / "images" / "val").glob("*.png"))
    assert len(images) == 4
    pixels = np.asarray(Image.open(images[0]))
    assert pixels.shape == (48, 3 * 48, 3) and pixels.mean() > 20
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["model"]["model"] == "baryir-tiny"


def test_tensorboard_run_logs_images_and_text(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    fit_with_logger(tmp_path, "tensorboard.yaml")
    (events,) = (tmp_path / "tensorboard").rglob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(events), size_guidance={"images": 0}).Reload()
    tags = accumulator.Tags()
    assert {"train/pixel", "val/psnr", "lr-Adam"} <= set(tags["scalars"])
    assert len(tags["images"]) == 2 and all(t.startswith("val/images/") for t in tags["images"])
    assert [e.step for e in accumulator.Images(tags["images"][0])] == [2, 4]
    assert any("data_summary" in tag for tag in tags["tensors"])


def test_csv_run_gets_scalars_and_run_info_but_no_images(tmp_path: Path) -> None:
    fit_with_logger(
        tmp_path,
        "csv.yaml",
        "--trainer.callbacks+=baryir.tasks.callbacks.ValidationImageLogger",
    )
    (metrics,) = (tmp_path / "csv").rglob("metrics.csv")
    header = next(csv.reader(metrics.open()))
    assert "lr-Adam" in header and "train/sinkhorn" in header
    hparams = yaml.safe_load(next((tmp_path / "csv").rglob("hparams.yaml")).read_text())
    assert hparams["run/wb_solver"] == "sinkhorn"
    assert "bundled" in hparams["run/data_summary"]
    assert not list(tmp_path.rglob("*.png"))
