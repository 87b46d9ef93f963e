"""``baryir study`` end to end on the shared data: 3 arms, 2 seeds, 3 steps, 2 images a row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from baryir.cli import main

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "study" / "smoke.yaml"
ARMS = ["none", "sinkhorn", "potentials"]
ROWS = [
    "CBSD68:25",
    "Rain100H[70:100]",
    "CBSD68:haze",
    "CBSD68:noise:60",
    "CBSD68:jpeg:20",
    "CBSD68:noise:25+jpeg:30",
]


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    from conftest import shared_data_dir

    root = shared_data_dir()
    if not (root / "train" / "CBSD432").is_dir() or not (root / "Rain100H").is_dir():
        pytest.skip(f"shared data (train/CBSD432, Rain100H) not found at {root}")
    out, runs = tmp_path_factory.mktemp("report"), tmp_path_factory.mktemp("runs")
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    monkeypatch.chdir(REPO)  # the report states the git revision of the working directory
    monkeypatch.setenv("BARYIR_SHARED_DATA", str(root))
    args = ["study", "--config", str(SMOKE), "--output", str(out), "--work-dir", str(runs)]
    assert main(args) == 0
    return out


def test_study_writes_tables_plot_and_readme(study: Path) -> None:
    rows = _read(study / "smoke.csv")
    assert list(rows[0]) == [
        "group", "row", "arm", "psnr_mean", "psnr_std", "ssim_mean", "ssim_std",
        "input_psnr", "seeds", "images",
    ]  # fmt: skip
    assert [(r["row"], r["arm"]) for r in rows] == [(row, arm) for row in ROWS for arm in ARMS]
    assert {r["group"] for r in rows[:9]} == {"id"} and {r["group"] for r in rows[9:]} == {"ood"}
    assert all(r["seeds"] == "2" and r["images"] == "2" for r in rows)
    assert all(5 < float(r["psnr_mean"]) < 60 for r in rows)

    differences = _read(study / "smoke-differences.csv")
    assert list(differences[0])[:8] == [
        "group", "row", "arm", "reference", "diff_mean", "ci_low", "ci_high", "verdict",
    ]  # fmt: skip
    assert len(differences) == 2 * (len(ROWS) + 2)  # per row + the two group lines, per arm
    for d in differences:
        assert float(d["ci_low"]) <= float(d["diff_mean"]) <= float(d["ci_high"])
        assert d["verdict"] in ("better", "worse", "inconclusive") and d["reference"] == "none"

    per_image = _read(study / "smoke-per-image.csv")
    assert len(per_image) == len(ARMS) * 2 * len(ROWS) * 2
    rain = {r["image"] for r in per_image if r["row"] == "Rain100H[70:100]"}
    assert rain == {"71", "72"}  # pairs 71.. (numeric order), never the training pairs 1..70
    means = {(r["row"], r["arm"]): float(r["psnr_mean"]) for r in rows}
    for arm in ARMS:
        scores = [float(r["psnr"]) for r in per_image if r["arm"] == arm and r["row"] == ROWS[0]]
        assert sum(scores) / len(scores) == pytest.approx(means[ROWS[0], arm], abs=1e-3)

    timing = _read(study / "smoke-timing.csv")
    assert [(t["arm"], t["seed"]) for t in timing] == [(a, s) for s in "01" for a in ARMS]
    assert all(float(t["train_s"]) > 0 and float(t["eval_s"]) > 0 for t in timing)

    markdown = (study / "smoke.md").read_text()
    for text in (
        "Git revision",
        "Machine",
        "baryir study --config",
        "Same training batches in every arm: yes",
        "Paired difference to `none`",
        "Wall time per arm",
    ):
        assert text in markdown
    readme = (study / "README.md").read_text()
    assert "$" not in readme.replace("$BARYIR", "")
    assert "What the numbers show" in readme and "What they do not show" in readme
    assert (study / "smoke.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
