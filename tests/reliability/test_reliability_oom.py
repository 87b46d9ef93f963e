"""``baryir restore`` when the network runs out of memory (simulated on the CPU)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

import baryir.commands.restore
from baryir.cli import main
from baryir.io.image import read_image, write_image
from baryir.models import create_model


class OutOfMemoryAbove(nn.Module):
    """Wraps a network; raises ``torch.OutOfMemoryError`` for inputs above ``max_pixels``."""

    def __init__(self, network: nn.Module, max_pixels: int) -> None:
        super().__init__()
        self.network = network
        self.max_pixels = max_pixels
        self.sizes: list[tuple[int, int]] = []

    def forward(self, x: Tensor):  # noqa: ANN201 - the wrapped network's output
        self.sizes.append(tuple(x.shape[-2:]))
        if x.shape[-2] * x.shape[-1] > self.max_pixels:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.network(x)


@pytest.fixture
def oom_model(monkeypatch: pytest.MonkeyPatch):
    """Make ``baryir restore`` load a tiny network that fails above a pixel budget."""
    torch.manual_seed(0)
    holder: dict[str, OutOfMemoryAbove] = {}

    def install(max_pixels: int) -> dict[str, OutOfMemoryAbove]:
        def fake_load(path: str, name: str | None = None) -> nn.Module:
            holder["model"] = OutOfMemoryAbove(create_model("baryir-tiny", dim=8), max_pixels)
            return holder["model"].eval()

        monkeypatch.setattr(baryir.commands.restore, "load_model", fake_load)
        return holder

    return install


def test_restore_falls_back_to_tiles_on_out_of_memory(tmp_path: Path, oom_model, caplog) -> None:
    holder = oom_model(max_pixels=64 * 64)
    image = tmp_path / "big.png"
    write_image(image, torch.rand(3, 100, 120))
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="baryir.inference.restoring"):
        code = main(["restore", str(image), "--ckpt", "unused", "--output", str(out)])
    assert code == 0
    assert "out of memory" in caplog.text and "retrying with 64-pixel tiles" in caplog.text
    sizes = holder["model"].sizes
    assert sizes[0] == (100, 120) and all(h * w <= 64 * 64 for h, w in sizes[1:])
    restored = read_image(out / "big.png")
    assert restored.shape == (3, 100, 120) and torch.isfinite(restored).all()


def test_restore_out_of_memory_even_tiled_skips_the_image(
    tmp_path: Path, oom_model, capsys
) -> None:
    oom_model(max_pixels=0)
    image = tmp_path / "big.png"
    write_image(image, torch.rand(3, 100, 120))
    out = tmp_path / "out"
    code = main(["restore", str(image), "--ckpt", "unused", "--output", str(out)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "big.png: out of memory" in err[0]
    assert not out.exists() or not list(out.iterdir())
