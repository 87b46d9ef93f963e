"""The Hugging Face Hub folder layout: export, read back by every loader, push (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("huggingface_hub", reason="the Hub layout needs pip install 'baryir[hub]'")

from baryir.cli import main  # noqa: E402
from baryir.io.checkpoint import CheckpointError, load_weights  # noqa: E402
from baryir.io.hub import is_hub_folder, model_card, push_to_hub, write_hub_folder  # noqa: E402
from baryir.models import create_model, export_model, load_model, model_config  # noqa: E402


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return export_model(create_model("baryir-tiny", dim=8), tmp_path / "tiny.safetensors")


def test_export_writes_the_hub_layout_and_every_loader_reads_it(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "hub"
    assert main(["export", str(tiny), str(out), "--results", str(_table(tmp_path))]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "baryir-tiny" and config["config"]["dim"] == 8
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: baryir" in card
    assert "# baryir: `baryir-tiny`" in card and "| noise sigma 25 | 28.5 |" in card
    assert is_hub_folder(out)
    original, loaded = load_model(tiny), load_model(out)
    torch.testing.assert_close(loaded.state_dict(), original.state_dict(), rtol=0, atol=0)
    x = torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        assert torch.equal(loaded(x).restored, original(x).restored)
    assert torch.equal(
        create_model("baryir-tiny", weights=out).decoder.output.weight,
        original.decoder.output.weight,
    )


def _table(folder: Path) -> Path:
    table = folder / "results.md"
    table.write_text("| row | psnr |\n| --- | ---: |\n| noise sigma 25 | 28.5 |\n")
    return table


def test_a_folder_is_written_whole_and_never_over_files(tiny: Path, tmp_path: Path) -> None:
    model = load_model(tiny)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep")
    card = model_card("baryir-tiny", model_config(model), 1)
    with pytest.raises(FileExistsError, match="not an empty folder"):
        write_hub_folder(model, busy, "baryir-tiny", model_config(model), card)
    assert [p.name for p in busy.iterdir()] == ["mine.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(CheckpointError, match="not a Hub model folder"):
        load_weights(busy)


def test_push_to_hub_uploads_the_folder(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    import huggingface_hub

    calls = []

    class FakeApi:
        def create_repo(self, repo_id, private, exist_ok):  # noqa: ANN001, ANN202
            calls.append(("create", repo_id, private, exist_ok))

        def upload_folder(self, folder_path, repo_id):  # noqa: ANN001, ANN202
            calls.append(("upload", Path(folder_path), repo_id))
            return f"https://huggingface.co/{repo_id}/commit/1"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    out = tmp_path / "hub"
    assert main(["export", str(tiny), str(out), "--push-to-hub", "me/tiny", "--private"]) == 0
    assert calls == [("create", "me/tiny", True, True), ("upload", out, "me/tiny")]
    with pytest.raises(FileNotFoundError, match="not a Hub folder"):
        push_to_hub(tmp_path, "me/tiny")
