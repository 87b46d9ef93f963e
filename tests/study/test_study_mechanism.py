"""The mechanism measures (b/r divergence) and the budget curve, against known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from report.budget_checks import check_targets, first_step_meeting, last_quarter_gain, mean_gain
from report.prose import budget_text, mechanism_text
from report.tables import curve_table, mechanism_table

from baryir.evaluation.embedding import Embeddings, cloud_divergence
from baryir.models import create_model, export_model
from baryir.study.budget import CurvePoint, curve_callback, curve_checkpoints, curve_points
from baryir.study.config import BudgetCurve, load_study_config
from baryir.study.mechanism import (
    MechanismScore,
    measure_run,
    mechanism_datasets,
    score_embeddings,
    summarize_mechanism,
)
from baryir.study.stats import ImageScore

REPO = Path(__file__).resolve().parents[2]


def _clouds(shift: float, n: int = 24, dim: int = 6, seed: int = 0) -> tuple[torch.Tensor, list]:
    """Two Gaussian clouds (unit spread) whose means are ``shift`` apart along axis 0."""
    generator = torch.Generator().manual_seed(seed)
    points = torch.randn(2 * n, dim, generator=generator, dtype=torch.float64)
    points[n:, 0] += shift
    return points, ["a"] * n + ["b"] * n


def test_divergence_of_identical_clouds_is_zero() -> None:
    points, _ = _clouds(0.0)
    same = torch.cat([points[:24], points[:24]])
    assert cloud_divergence(same, ["a"] * 24 + ["b"] * 24) == pytest.approx(0.0, abs=1e-6)


def test_divergence_of_point_types_is_k_over_k_minus_1() -> None:
    # Types collapsed to points: S_eps(delta_x, delta_y) = |x - y|^2 / 2 exactly (one coupling).
    # Two points 2 sigma apart (sigma^2 = total variance): (2 sigma)^2 / 2 / sigma^2 = 2 = K/(K-1).
    two = torch.tensor([[0.0, 0.0]] * 3 + [[6.0, 0.0]] * 3)
    assert cloud_divergence(two, list("aaabbb")) == pytest.approx(2.0, abs=1e-3)
    # Three equal point types: mean pair |x_k - x_l|^2 / 2 over sigma^2 = K / (K - 1) = 1.5.
    three = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0, 1]])
    assert cloud_divergence(three, list("aabbcc")) == pytest.approx(1.5, abs=1e-3)


def test_divergence_grows_with_separation() -> None:
    values = [cloud_divergence(*_clouds(shift)) for shift in (0.0, 1.0, 2.0, 4.0, 8.0)]
    assert values == sorted(values) and values[-1] > 3 * values[0]
    assert values[-1] < 2.0  # the two-type bound K / (K - 1)


def test_divergence_is_invariant_to_scale_and_shift() -> None:
    points, labels = _clouds(2.0)
    reference = cloud_divergence(points, labels)
    assert cloud_divergence(points * 1000.0 + 7.0, labels) == pytest.approx(reference, rel=1e-6)
    assert cloud_divergence(points * 0.001, labels) == pytest.approx(reference, rel=1e-6)
    with pytest.raises(ValueError, match="two degradation types"):
        cloud_divergence(points, ["a"] * len(points))


def test_scores_see_shared_b_and_separated_r() -> None:
    mixed, labels = _clouds(0.0)
    separated, _ = _clouds(10.0)
    score = score_embeddings(Embeddings(mixed, separated * 5, labels), "none", 0)
    assert score.b_divergence < 0.5 < 1.5 < score.r_divergence
    assert score.b_silhouette < 0.2 < 0.5 < score.r_silhouette
    assert score.r_centroid_accuracy == 1.0 and (score.rows, score.images) == (2, 48)


class _Row(torch.utils.data.Dataset):
    def __init__(self, label: str, value: float, spec: str | None = None) -> None:
        self.label, self.spec = label, spec
        generator = torch.Generator().manual_seed(int(value * 10))
        self.images = [(value + 0.1 * torch.rand(3, 16, 16, generator=generator)).clamp(0, 1)]
        self.images.append(self.images[0].flip(-1))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        return {"input": self.images[index]}


def test_mechanism_rows_are_in_distribution_and_clean() -> None:
    rows = [
        ("id", _Row("x", 0.1)),
        ("ood", _Row("y", 0.2)),
        ("harm", _Row("clean", 0.3, spec="clean")),
        ("harm", _Row("mild", 0.4, spec="noise:5")),
    ]
    assert [d.label for d in mechanism_datasets(rows)] == ["x", "clean"]


def test_measure_run_caches_and_skips_baselines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    weights = export_model(create_model("baryir-tiny", dim=8), tmp_path / "tiny.safetensors")
    rows = [_Row("dark", 0.1), _Row("mid", 0.5), _Row("bright", 0.9)]
    cache = tmp_path / "mechanism.json"
    score, embeddings = measure_run(weights, rows, "none", 0, 0.05, "cpu", cache)
    assert (score.rows, score.images) == (3, 6) and embeddings.barycenter.shape == (6, 64)
    assert json.loads(cache.read_text())["labels"] == embeddings.labels

    def refuse(*args: object) -> None:
        raise AssertionError("the cache must be read, not the checkpoint")

    monkeypatch.setattr("baryir.models.load_model", refuse)
    again, cached = measure_run(weights, rows, "none", 0, 0.05, "cpu", cache)
    assert again == score and cached.labels == embeddings.labels
    assert torch.allclose(cached.residual, embeddings.residual)
    monkeypatch.undo()
    plain = export_model(create_model("restormer-tiny", dim=8), tmp_path / "plain.safetensors")
    assert measure_run(plain, rows, "plain", 0, 0.05, "cpu", None) is None


def _score(arm: str, seed: int, b: float, r: float = 1.0) -> MechanismScore:
    return MechanismScore(arm, seed, b, r, 0.0, 0.5, 0.3, 0.9, 4, 32)


def test_summary_pairs_seeds_and_text_says_closer() -> None:
    scores = [_score("none", s, 1.0 + 0.1 * s) for s in (0, 1, 2)]
    scores += [_score("sinkhorn", s, 0.8 + 0.1 * s, 1.2) for s in (0, 1, 2)]
    scores += [_score("potentials", s, 1.0 + 0.1 * s + 0.01 * (s - 1)) for s in (0, 1, 2)]
    arms = ["none", "sinkhorn", "potentials"]
    rows = summarize_mechanism(scores, arms, "none", [0, 1, 2], n_boot=500)
    cell = {(r.arm, r.metric): r for r in rows}
    b = cell["sinkhorn", "b_divergence"]
    assert (b.mean, b.std) == (pytest.approx(0.9), pytest.approx(0.1))
    assert (b.diff_mean, b.ci_low, b.ci_high, b.verdict) == (
        pytest.approx(-0.2),
        pytest.approx(-0.2),
        pytest.approx(-0.2),
        "worse",
    )
    assert cell["none", "b_divergence"].verdict == "reference"
    assert cell["potentials", "b_divergence"].verdict == "inconclusive"
    text = mechanism_text(rows, scores, (), arms, "none", 0.95)
    assert "The WB arms `sinkhorn` bring b closer than `none`." in text
    assert "`potentials`" in text and "1.33" in text  # K/(K-1) for 4 rows
    assert "Δ -0.200 [-0.200, -0.200] ▼" in mechanism_table(rows, arms)
    one_seed = summarize_mechanism(scores, arms, "none", [0], n_boot=500)
    sinkhorn = next(r for r in one_seed if r.arm == "sinkhorn")
    assert math.isnan(sinkhorn.ci_low) and sinkhorn.verdict == "inconclusive"
    text = mechanism_text(one_seed, scores, (), arms, "none", 0.95)
    assert "No WB arm brings b closer" in text and "no verdict" in text


def _curve_scores(step: int, gain: float) -> list[ImageScore]:
    return [
        ImageScore("none", 0, "CBSD68:25", "id", "a", 20.0 + gain, 20.0),
        ImageScore("none", 0, "CBSD68:25", "id", "b", 22.0 + gain, 20.0),
        ImageScore("none", 0, "CBSD68:clean", "harm", "a", 40.0, math.inf),
    ]


def test_budget_curve_gain_and_text() -> None:
    points = curve_points({s: _curve_scores(s, g) for s, g in ((4, 0.5), (8, 1.0), (12, 1.2))})
    assert points[0] == CurvePoint(4, "id", "CBSD68:25", 21.5, 20.0, 2)
    assert mean_gain(points, 8, "id") == pytest.approx(2.0)
    assert math.isnan(mean_gain(points, 8, "harm"))  # the clean row has no finite input PSNR
    assert last_quarter_gain(points, 12) == (8, pytest.approx(0.2))
    assert last_quarter_gain(points, 16) is None
    text = budget_text(points, 12, BudgetCurve(every=4))
    assert "From step 8 to 12" in text and "+0.20 dB" in text and "under 0.3 dB" in text
    assert "at least 0.1 dB" in budget_text(points, 12, BudgetCurve(every=4, plateau_db=0.1))
    assert "No budget curve" in budget_text([], 12, None)
    table = curve_table(points)
    assert "| 12 | 22.20 | 40.00 | +2.20 | n/a |" in table  # (21.2 + 23.2) / 2


def test_budget_targets_are_checked_over_seeds_and_along_the_curve() -> None:
    points = curve_points({s: _curve_scores(s, g) for s, g in ((4, 0.5), (8, 1.0), (12, 1.2))})
    curve = BudgetCurve(every=4, min_gain={"CBSD68:25": 1.9}, min_psnr={"CBSD68:clean": 35.0})
    assert curve.targets() == {"CBSD68:25": ("gain", 1.9), "CBSD68:clean": ("psnr", 35.0)}
    assert first_step_meeting(points, curve.targets()) == 8  # gains 1.5, 2.0, 2.2; clean 40
    assert first_step_meeting(points, {"CBSD68:25": ("gain", 5.0)}) is None
    final = [
        ImageScore("none", seed, row, group, image, psnr, inp)
        for seed, row, group, image, psnr, inp in (
            (0, "CBSD68:25", "id", "a", 26.0, 20.0),
            (0, "CBSD68:25", "id", "b", 28.0, 22.0),  # seed 0: gain +6
            (1, "CBSD68:25", "id", "a", 27.0, 20.0),  # seed 1: gain +7
            (0, "CBSD68:clean", "harm", "a", 31.0, math.inf),
            (1, "CBSD68:clean", "harm", "a", 28.0, math.inf),
        )
    ]
    targets = {"CBSD68:25": ("gain", 6.0), "CBSD68:clean": ("psnr", 30.0)}
    gain, clean = check_targets(final, targets)
    assert (gain.value, gain.worst, gain.seeds, gain.met) == (6.5, 6.0, 2, True)
    assert (clean.value, clean.worst, clean.met) == (29.5, 28.0, False)
    (missing,) = check_targets(final, {"CBSD68:50": ("gain", 9.0)})
    assert math.isnan(missing.value) and not missing.met
    strict = BudgetCurve(every=4, min_gain={"CBSD68:25": 6.0}, min_psnr={"CBSD68:clean": 30.0})
    text = budget_text(points, 12, strict, "none", final)
    assert "From step 8 to 12" in text
    assert "- `CBSD68:25`: gain over the input +6.50 dB (+6.00), target +6.00: met" in text
    assert "- `CBSD68:clean`: PSNR 29.50 dB (28.00), target 30.00: **not met**" in text
    assert "1 of 2 missed" in text and "meets every target at none of its scored steps" in text


def test_budget_targets_must_name_curve_rows() -> None:
    config = load_study_config(REPO / "configs" / "study" / "smoke.yaml")
    row = config.evaluation.in_distribution[0]
    config.with_overrides(budget_curve=BudgetCurve(every=1, min_gain={row: 3.0}))
    with pytest.raises(ValueError, match="budget_curve targets must name"):
        config.with_overrides(budget_curve=BudgetCurve(every=1, min_gain={"CBSD68:99": 3.0}))
    with pytest.raises(ValueError, match="each once"):
        config.with_overrides(
            budget_curve=BudgetCurve(every=1, min_gain={row: 3.0}, min_psnr={row: 30.0})
        )


def test_curve_checkpoints_are_found_by_step(tmp_path: Path) -> None:
    callback = curve_callback(tmp_path, 5)
    checkpoint = ModelCheckpoint(**callback["init_args"])
    assert checkpoint.format_checkpoint_name({"epoch": 0, "step": 10}).endswith("step-000010.ckpt")
    folder = tmp_path / "checkpoints" / "curve"
    folder.mkdir(parents=True)
    for step in (15, 5, 10):
        (folder / f"step-{step:06d}.ckpt").touch()
    assert curve_checkpoints(tmp_path, 15) == [
        (5, folder / "step-000005.ckpt"),
        (10, folder / "step-000010.ckpt"),
    ]


def test_config_fields_validate(tmp_path: Path) -> None:
    smoke = (REPO / "configs" / "study" / "smoke.yaml").read_text()
    config = load_study_config(REPO / "configs" / "study" / "smoke.yaml")
    assert config.budget_curve == BudgetCurve(every=1) and config.mechanism_blur == 0.05
    path = tmp_path / "study.yaml"
    for extra, message in (
        ("budget_curve: {everyy: 2}\n", "everyy"),
        ("mechanism_blurr: 0.1\n", "mechanism_blurr"),
        ("mechanism_blur: 0\n", "mechanism_blur must be > 0"),
    ):
        path.write_text(smoke.replace("budget_curve: {every: 1}\n", "") + extra)
        with pytest.raises(ValueError, match=message):
            load_study_config(path)
    with pytest.raises(ValueError, match="every >= 1"):
        config.with_overrides(budget_curve=BudgetCurve(every=0))
