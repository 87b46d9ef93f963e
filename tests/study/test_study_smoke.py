"""``baryir study`` end to end on the shared data: 3 arms, 2 seeds, 3 steps, 2 images a row,
with the mechanism and the budget curve, then its report (``studies/write_report.py``); then
restarted, reusing every run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from write_report import main as write_report

from baryir.cli import main
from baryir.data.datasets.testsets import test_set_label as row_label

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "study" / "smoke.yaml"
ARMS = ["none", "sinkhorn", "potentials"]
SPECS = [
    "CBSD68:25",
    "Rain100H[70:100]",
    "CBSD68:haze",
    "CBSD68:noise:60",
    "CBSD68:jpeg:20",
    "CBSD68:noise:25+jpeg:30",
    "CBSD68:clean",
]
ROWS = [row_label(spec) for spec in SPECS]  # rows named as every table names them


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


@pytest.fixture(scope="module")
def study(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, Path]:
    """The results and report folder and the runs folder of the smoke study."""
    from conftest import shared_data_dir

    root = shared_data_dir()
    if not (root / "train" / "CBSD432").is_dir() or not (root / "Rain100H").is_dir():
        pytest.skip(f"shared data (train/CBSD432, Rain100H) not found at {root}")
    out, runs = tmp_path_factory.mktemp("report"), tmp_path_factory.mktemp("runs")
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    monkeypatch.chdir(REPO)  # the report states the git revision of the working directory
    monkeypatch.setenv("BARYIR_DATA", str(root))
    args = ["study", "--config", str(SMOKE), "--output", str(out), "--work-dir", str(runs)]
    assert main(args) == 0
    assert not (out / "README.md").exists()  # the report is not written by the package
    assert write_report(["--config", str(SMOKE), "--results", str(out)]) == 0
    return out, runs


def test_restarted_study_reuses_runs_scores_mechanism_and_curve(
    study: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    report, runs = study
    caches = {p: p.stat().st_mtime_ns for p in runs.rglob("*.json")}
    assert {p.name.split("-")[0] for p in caches} >= {"run.json", "scores", "mechanism", "curve"}

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished study must not train, score or embed again")

    monkeypatch.setattr("baryir.study.scoring.evaluate", refuse)
    monkeypatch.setattr("baryir.study.mechanism.collect_embeddings", refuse)
    capsys.readouterr()
    assert (
        main(["study", "--config", str(SMOKE), "--output", str(tmp_path), "--work-dir", str(runs)])
        == 0
    )
    assert {p: p.stat().st_mtime_ns for p in caches} == caches
    assert capsys.readouterr().out.count("(reused)") == len(ARMS) * 2
    for name in ("smoke-mechanism.csv", "smoke-budget.csv", "smoke-differences.csv"):
        assert (tmp_path / name).read_text() == (report / name).read_text()


def test_study_writes_tables_plot_and_readme(study: tuple[Path, Path]) -> None:
    study = study[0]
    rows = _read(study / "smoke.csv")
    assert list(rows[0]) == [
        "group", "row", "arm", "psnr_mean", "psnr_std", "ssim_mean", "ssim_std",
        "input_psnr", "seeds", "images",
    ]  # fmt: skip
    assert [(r["row"], r["arm"]) for r in rows] == [(row, arm) for row in ROWS for arm in ARMS]
    groups = [r["group"] for r in rows]
    assert groups == ["id"] * 9 + ["ood"] * 9 + ["harm"] * 3
    assert all(r["seeds"] == "2" and r["images"] == "2" for r in rows)
    assert all(5 < float(r["psnr_mean"]) < 60 for r in rows)

    differences = _read(study / "smoke-differences.csv")
    assert list(differences[0])[:8] == [
        "group", "row", "arm", "reference", "diff_mean", "ci_low", "ci_high", "verdict",
    ]  # fmt: skip
    assert len(differences) == 2 * (len(ROWS) + 3)  # per row + the three group lines, per arm
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


def test_study_reports_mechanism_and_budget(study: tuple[Path, Path]) -> None:
    report = study[0]
    mechanism = _read(report / "smoke-mechanism.csv")
    assert list(mechanism[0])[:4] == ["arm", "metric", "mean", "std"]
    assert [(m["arm"], m["metric"]) for m in mechanism[:3]] == [
        (arm, "b_divergence") for arm in ARMS
    ]
    assert len(mechanism) == len(ARMS) * 6 and mechanism[0]["verdict"] == "reference"
    runs = _read(report / "smoke-mechanism-runs.csv")
    assert [(r["arm"], r["seed"]) for r in runs] == [(a, s) for s in "01" for a in ARMS]
    # the three in-distribution rows and the clean row, 2 images each
    assert all((r["rows"], r["images"]) == ("4", "8") for r in runs)
    assert all(0 <= float(r["b_divergence"]) < 4 / 3 + 0.05 for r in runs)
    assert (report / "smoke-embedding.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    budget = _read(report / "smoke-budget.csv")
    in_curve = [row_label(s) for s in ("CBSD68:25", "Rain100H[70:100]", "CBSD68:haze")]
    in_curve += [row_label("CBSD68:clean")]
    assert [(b["step"], b["row"]) for b in budget] == [
        (step, row) for step in "123" for row in in_curve
    ]
    # the last point is the final checkpoint's own scores (reference arm, first seed)
    own = [
        float(r["psnr"])
        for r in _read(report / "smoke-per-image.csv")
        if (r["arm"], r["seed"], r["row"]) == ("none", "0", ROWS[0])
    ]
    last = next(b for b in budget if (b["step"], b["row"]) == ("3", ROWS[0]))
    assert float(last["psnr"]) == pytest.approx(sum(own) / len(own), abs=1e-4)

    markdown = (report / "smoke.md").read_text()
    assert "## Mechanism" in markdown and "| `sinkhorn` |" in markdown
    assert "From step 2 to 3" in markdown and "smoke-embedding.png" in markdown
    readme = (report / "README.md").read_text()
    assert "**Mechanism.**" in readme and "b closer than `none`" in readme
    assert "From step 2 to 3" in readme


def test_study_reports_the_alignment_share(study: tuple[Path, Path]) -> None:
    report, runs = study
    dose = _read(report / "smoke-dose.csv")
    assert [d["arm"] for d in dose] == ["sinkhorn", "potentials"]
    assert [d["term"] for d in dose] == ["sinkhorn", "potential"]
    for row in dose:  # measured at step 0 (grad_shares.every 100 > 3 steps): one value
        assert 0 < float(row["share_first"]) == float(row["share_mean"]) < 1
    metrics = _read(runs / "sinkhorn-seed0" / "logs" / "version_0" / "metrics.csv")
    logged = [
        float(m["train/grad_share/sinkhorn"]) for m in metrics if m["train/grad_share/sinkhorn"]
    ]
    assert float(dose[0]["share_first"]) == pytest.approx(
        (
            logged[0]
            + float(
                next(
                    m
                    for m in _read(runs / "sinkhorn-seed1" / "logs" / "version_0" / "metrics.csv")
                    if m["train/grad_share/sinkhorn"]
                )["train/grad_share/sinkhorn"]
            )
        )
        / 2
    )
    readme = (report / "README.md").read_text()
    assert "### Dose and response" in readme and "**(a) Does any dose align b" in readme
    assert (report / "smoke-dose.png").read_bytes()[:4] == b"\x89PNG"
    assert (report / "smoke-shares.png").read_bytes()[:4] == b"\x89PNG"
