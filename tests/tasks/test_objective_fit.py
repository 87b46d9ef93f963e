"""The full objective through the CLI: every solver trains; paper configs start on its layout."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from PIL import Image

from baryir.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "conf" / "tiny.yaml"

TERMS = {
    "none": {"pixel", "orthogonality", "contrast"},
    "sinkhorn": {"pixel", "transport", "orthogonality", "contrast", "sinkhorn"},
    "potentials": {"pixel", "transport", "orthogonality", "contrast", "potential", "congruence"},
}


def read_metrics(root: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(next(root.rglob("metrics.csv")).open()))


def column(rows: list[dict[str, str]], name: str) -> list[float]:
    return [float(row[name]) for row in rows if row.get(name)]


@pytest.mark.parametrize("solver", ["none", "sinkhorn", "potentials"])
def test_twenty_steps_each_solver_logs_terms_and_learns(solver: str, tmp_path: Path) -> None:
    main(
        [
            "fit",
            "--config",
            str(TINY),
            f"--model.objective.wb_solver={solver}",
            "--trainer.max_steps=20",
            "--trainer.val_check_interval=20",
            f"--trainer.default_root_dir={tmp_path}",
            f"--trainer.logger.init_args.save_dir={tmp_path}",
            f"--trainer.callbacks.init_args.dirpath={tmp_path / 'ckpt'}",
        ]
    )
    rows = read_metrics(tmp_path)
    logged = {key.removeprefix("train/") for key in rows[0] if key.startswith("train/")}
    assert TERMS[solver] <= logged
    for term in TERMS[solver]:
        values = column(rows, f"train/{term}")
        assert len(values) >= 19 and all(torch.isfinite(torch.tensor(values)))
    loss = column(rows, "train/loss")
    assert sum(loss[-5:]) / 5 < sum(loss[:5]) / 5


def make_paper_layout(root: Path, size: tuple[int, int] = (48, 40)) -> Path:
    """A miniature ``data/Train`` + ``data/test`` tree in the paper's layout, random images."""
    generator = torch.Generator().manual_seed(0)

    def image(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = torch.randint(0, 256, (size[1], size[0], 3), generator=generator)
        Image.fromarray(pixels.to(torch.uint8).numpy()).save(path)

    train = root / "Train"
    for i in range(4):
        image(train / "Denoise" / f"{i:03d}.png")
        image(train / "Derain" / "rainy" / f"rain-{i + 1:03d}.png")
        image(train / "Derain" / "gt" / f"norain-{i + 1:03d}.png")
        image(train / "Dehaze" / "synthetic" / "part1" / f"{i + 1:04d}_0.8_0.2.jpg")
        image(train / "Dehaze" / "original" / f"{i + 1:04d}.jpg")
        image(train / "Deblur" / "blur" / f"{i:03d}.png")
        image(train / "Deblur" / "sharp" / f"{i:03d}.png")
        image(train / "lowlight" / "low" / f"{i:03d}.png")
        image(train / "lowlight" / "high" / f"{i:03d}.png")
    test = root / "test"
    for i in range(2):
        image(test / "denoise" / "bsd68" / f"{i}.png")
        image(test / "derain" / "Rain100L" / "input" / f"{i}.png")
        image(test / "derain" / "Rain100L" / "target" / f"{i}.png")
        image(test / "dehaze" / "input" / f"{i:04d}_0.8_0.2.jpg")
        image(test / "dehaze" / "target" / f"{i:04d}.png")
        image(test / "deblur" / "input" / f"{i}.png")
        image(test / "deblur" / "target" / f"{i}.png")
        image(test / "lowlight" / "low" / f"{i}.png")
        image(test / "lowlight" / "high" / f"{i}.png")
    return root


TINY_OVERRIDES = [
    "--model.model=baryir-tiny",
    "--model.model_args={dim: 8}",
    "--model.objective.potentials_pooling=adaptive",
    "--data.patch_size=32",
    "--data.num_workers=0",
    "--data.persistent_workers=false",
    "--data.val_max_images=1",
    "--trainer.max_steps=2",
    "--trainer.max_epochs=1",
    "--trainer.limit_val_batches=1",
    "--trainer.accelerator=cpu",
    "--trainer.enable_progress_bar=false",
]


@pytest.mark.parametrize(
    "config",
    ["baryir-3d.yaml", "baryir-5d.yaml", "baryir-promptir-3d.yaml", "baryir-promptir-5d.yaml"],
)
def test_paper_configs_start_on_a_paper_layout(config: str, tmp_path: Path) -> None:
    data = make_paper_layout(tmp_path / "data")
    model = "baryir-promptir-tiny" if "promptir" in config else "baryir-tiny"
    main(
        [
            "fit",
            "--config",
            str(ROOT / "configs" / config),
            f"--data.root={data}",
            *TINY_OVERRIDES,
            f"--model.model={model}",
            f"--trainer.default_root_dir={tmp_path}",
            f"--trainer.logger.init_args.save_dir={tmp_path}",
            f"--trainer.callbacks=[{{class_path: lightning.pytorch.callbacks.ModelCheckpoint, "
            f"init_args: {{dirpath: {tmp_path / 'ckpt'}, save_last: true}}}}]",
        ]
    )
    checkpoint = torch.load(tmp_path / "ckpt" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 2
    sources = 5 if "5d" in config else 3
    assert checkpoint["hyper_parameters"]["num_sources"] == sources
    assert checkpoint["state_dict"]["source_weights"].shape == (sources,)
