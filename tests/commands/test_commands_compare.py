"""``baryir compare``: comparison grid, embedding view of b and r, and collect_embeddings."""

from __future__ import annotations

from pathlib import Path

import torch

from baryir.cli import main
from baryir.evaluation.embedding import collect_embeddings
from baryir.evaluation.runner import resolve_datasets
from baryir.io.checkpoint import export_weights
from baryir.io.image import read_image, write_image
from baryir.models import create_model, model_config


def test_collect_embeddings_and_compare_command(tmp_path: Path, capsys) -> None:
    torch.manual_seed(0)
    model = create_model("baryir-tiny")
    clean = tmp_path / "clean"
    generator = torch.Generator().manual_seed(4)
    for name in ("a", "b", "c"):
        write_image(clean / f"{name}.png", torch.rand(3, 32, 32, generator=generator))
    specs = [f"noise:50@{clean}", f"lowlight:0.2@{clean}"]
    embeddings = collect_embeddings(model, resolve_datasets(specs), max_images=2, crop=24)
    assert embeddings.barycenter.shape == (4, model.latent_channels)
    assert embeddings.residual.shape == (4, model.latent_channels)
    assert embeddings.labels == ["clean noise:50"] * 2 + ["clean lowlight:0.2"] * 2

    weights = tmp_path / "tiny.safetensors"
    export_weights(model.state_dict(), weights, "baryir-tiny", model_config(model))
    out = tmp_path / "out"
    argv = ["--ckpt", str(weights), "--sets", *specs, "--output", str(out)]
    assert main(["compare", *argv, "--images-per-set", "1", "--embedding-images", "2"]) == 0
    printed = capsys.readouterr().out
    assert "barycenter" in printed and "residual" in printed and "silhouette" in printed
    assert read_image(out / "comparison.png").shape[0] == 3
    assert read_image(out / "embedding.png").shape[0] == 3
    assert (out / "results.csv").is_file()
