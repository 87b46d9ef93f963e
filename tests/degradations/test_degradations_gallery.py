"""docs/make_degradations_gallery.py: every degradation pictured at two strengths, labelled,
the same picture on every run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from baryir.degradations import available_degradations, build_degradation

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "make_degradations_gallery.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_degradations_gallery", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_degradation_is_pictured_at_two_strengths(script) -> None:
    pictured = {
        part.partition(":")[0]
        for pair in script.GALLERY
        for spec in pair
        for part in spec.split("+")
    }
    assert pictured | {"clean"} == set(available_degradations())
    for mild, strong in script.GALLERY:
        assert mild != strong
        assert build_degradation(mild).name == build_degradation(strong).name


def test_gallery_layout_and_determinism(script, tmp_path: Path) -> None:
    photo = script.astronaut(32)
    assert photo.shape == (3, 32, 32) and 0 <= float(photo.min()) <= float(photo.max()) <= 1
    pairs = (("fog:0.3", "fog:0.8"), ("haze:0.05+snow:0.3+lowlight:0.4", "noise:50"))
    sheet = script.gallery(photo, pairs, columns=4)
    assert sheet.size == (4 * 32, 2 * (32 + script.LABEL_HEIGHT))
    again = script.gallery(photo, pairs, columns=4)
    assert np.array_equal(np.asarray(sheet), np.asarray(again))
    cells = np.asarray(sheet)
    assert not np.array_equal(cells[:32, :32], cells[:32, 32:64])  # two strengths differ
    clean = cells[32 + script.LABEL_HEIGHT :, :32]
    expected = (photo * 255).round().byte().permute(1, 2, 0).numpy()
    assert np.array_equal(clean[:32], expected)  # the last cell is the clean photo
    with pytest.raises(ValueError, match="even number"):
        script.gallery(photo, pairs, columns=3)


def test_main_writes_the_png(script, tmp_path: Path) -> None:
    out = tmp_path / "gallery.png"
    assert script.main(["--output", str(out), "--size", "24"]) == 0
    with Image.open(out) as image:
        assert image.size == (8 * 24, 6 * (24 + script.LABEL_HEIGHT))
    assert torch.tensor(np.asarray(Image.open(out))).float().std() > 10


def test_committed_gallery_has_the_default_layout(script) -> None:
    committed = SCRIPT.with_name("degradations.png")
    assert committed.stat().st_size < 1_500_000
    with Image.open(committed) as image:
        assert image.size == (8 * 128, 6 * (128 + script.LABEL_HEIGHT))
