"""The unseen suite (``baryir/data/suites/unseen.yaml``): every new degradation at two
strengths, the compounds, and the "do no harm" rows, all valid specs with labels that carry the
parameters."""

from __future__ import annotations

from pathlib import Path

import torch

from baryir.data.suites import SUITES_DIR, load_suite
from baryir.degradations import available_degradations

UNSEEN = SUITES_DIR / "unseen.yaml"
PAPER = {"noise", "rain", "haze", "motion_blur", "defocus", "jpeg", "lowlight", "colorcast"}


def test_unseen_suite_covers_every_new_degradation_twice() -> None:
    suite = load_suite(UNSEEN)
    labels = [s.label for s in suite.sets]
    assert suite.name == "unseen" and len(labels) == len(set(labels)) == 41
    assert labels[:3] == ["CBSD68 clean", "CBSD68 noise:5", "CBSD68 jpeg:40"]
    specs = [s.spec.partition(":")[2] for s in suite.sets]
    singles = [spec.partition(":")[0] for spec in specs if "+" not in spec]
    for name in set(available_degradations()) - PAPER - {"clean"}:
        assert singles.count(name) == 2, name
    compounds = [spec for spec in specs if "+" in spec]
    assert len(compounds) == 14 and "haze:0.15+snow:0.7+lowlight:0.2" in compounds


def test_unseen_rows_build_on_a_folder_of_clean_photos(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "CBSD68"
    folder.mkdir()
    pixels = (torch.rand(40, 48, 3, generator=torch.Generator().manual_seed(0)) * 255).byte()
    Image.fromarray(pixels.numpy()).save(folder / "0.png")
    datasets = load_suite(UNSEEN).build(root=tmp_path)
    assert [d.label for d in datasets][:2] == ["CBSD68 clean", "CBSD68 noise:5"]
    clean = datasets[0][0]
    assert torch.equal(clean["input"], clean["target"])
    for dataset in datasets[1:]:
        item = dataset[0]
        assert item["input"].shape == (3, 40, 48)
        assert not torch.equal(item["input"], item["target"]), dataset.label
