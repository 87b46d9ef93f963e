"""The paired bootstrap interval, the verdicts and the study config, against known answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from report.prose import answer_text

from baryir.data.suites import expand_specs
from baryir.io.image import write_image
from baryir.study.config import load_study_config
from baryir.study.scoring import build_rows
from baryir.study.stats import ImageScore, paired_difference_ci, summarize, verdict

REPO = Path(__file__).resolve().parents[2]


def test_constant_difference_has_a_zero_width_interval() -> None:
    mean, low, high = paired_difference_ci([torch.full((3, 5), 0.7)], n_boot=500)
    assert mean == pytest.approx(0.7) and low == pytest.approx(0.7) and high == pytest.approx(0.7)


def test_two_values_give_the_exact_bootstrap_distribution() -> None:
    # One seed, images {0, 1}: the resampled mean is 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4,
    # so the 95 % interval is [0, 1] and the 40 % interval (30th..70th percentile) is [0.5, 0.5].
    block = torch.tensor([[0.0, 1.0]])
    assert paired_difference_ci([block], level=0.95, n_boot=20000) == pytest.approx((0.5, 0, 1))
    assert paired_difference_ci([block], level=0.4, n_boot=20000) == pytest.approx((0.5, 0.5, 0.5))


def test_seed_noise_counts() -> None:
    # The difference varies only between seeds (+0 for seed 0, +1 for seed 1): the same exact
    # distribution as above, over seeds. A t-interval over the 2 x 50 "independent" pairs
    # would wrongly be narrow (about 0.5 +- 0.1).
    block = torch.tensor([[0.0] * 50, [1.0] * 50])
    assert paired_difference_ci([block], n_boot=20000) == pytest.approx((0.5, 0, 1))


def test_many_images_match_the_normal_interval() -> None:
    generator = torch.Generator().manual_seed(0)
    block = 0.3 + torch.randn(1, 400, generator=generator, dtype=torch.float64)
    mean, low, high = paired_difference_ci([block], n_boot=20000, seed=1)
    half = 1.96 * float(block.std()) / 400**0.5
    assert mean == pytest.approx(float(block.mean()))
    assert low == pytest.approx(mean - half, abs=0.15 * half)
    assert high == pytest.approx(mean + half, abs=0.15 * half)


def test_rows_are_averaged_with_equal_weight_and_seeded() -> None:
    blocks = [torch.zeros(2, 2), torch.full((2, 8), 1.0)]
    mean, low, high = paired_difference_ci(blocks, n_boot=300)
    assert (mean, low, high) == pytest.approx((0.5, 0.5, 0.5))
    noisy = [torch.randn(3, 4, generator=torch.Generator().manual_seed(i)) for i in range(2)]
    assert paired_difference_ci(noisy, seed=3) == paired_difference_ci(noisy, seed=3)
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference_ci([torch.zeros(2, 3), torch.zeros(3, 3)])


def test_verdict() -> None:
    assert verdict(0.1, 0.5) == "better"
    assert verdict(-0.5, -0.1) == "worse"
    assert verdict(-0.1, 0.1) == "inconclusive"


def _scores(shift: float) -> list[ImageScore]:
    scores = []
    for seed in (0, 1, 2):
        for group, row in (("id", "CBSD68:25"), ("ood", "CBSD68:jpeg:20")):
            for i in range(4):
                base = 25.0 + i + 0.1 * seed
                scores.append(ImageScore("none", seed, row, group, f"im{i}", base, 20.0))
                gain = shift if group == "ood" else 0.0
                scores.append(ImageScore("sinkhorn", seed, row, group, f"im{i}", base + gain, 20.0))
    return scores


def test_summary_and_answer_follow_the_intervals() -> None:
    rows = [("id", "CBSD68:25"), ("ood", "CBSD68:jpeg:20")]
    ssim = {(a, s, r): 0.8 for a in ("none", "sinkhorn") for s in (0, 1, 2) for _, r in rows}
    arm_rows, differences = summarize(
        _scores(0.4), ssim, rows, ["none", "sinkhorn"], "none", [0, 1, 2], n_boot=500
    )
    none_id = next(r for r in arm_rows if r.arm == "none" and r.row == "CBSD68:25")
    assert none_id.psnr_mean == pytest.approx(26.6) and none_id.psnr_std == pytest.approx(0.1)
    ood = next(d for d in differences if d.row.startswith("out-of-distribution"))
    assert (ood.diff_mean, ood.verdict) == (pytest.approx(0.4), "better")
    headline, lines = answer_text(differences, ["none", "sinkhorn"], "none", 0.95)
    assert "`sinkhorn` beat `none`" in headline and "supports" in headline
    _, differences = summarize(
        _scores(0.0), ssim, rows, ["none", "sinkhorn"], "none", [0, 1, 2], n_boot=500
    )
    headline, _ = answer_text(differences, ["none", "sinkhorn"], "none", 0.95)
    assert "no WB arm" in headline and "does not support" in headline
    _, differences = summarize(
        _scores(0.01), ssim, rows, ["none", "sinkhorn"], "none", [0, 1, 2], n_boot=500
    )
    headline, _ = answer_text(differences, ["none", "sinkhorn"], "none", 0.95, practical=0.05)
    assert "less than 0.05 dB" in headline


def test_summary_refuses_unpaired_images() -> None:
    scores = [s for s in _scores(0.0) if not (s.seed == 1 and s.image == "im0")]
    rows = [("id", "CBSD68:25"), ("ood", "CBSD68:jpeg:20")]
    ssim = {(a, s, r): 0.8 for a in ("none", "sinkhorn") for s in (0, 1, 2) for _, r in rows}
    with pytest.raises(ValueError, match="must match"):
        summarize(scores, ssim, rows, ["none", "sinkhorn"], "none", [0, 1, 2])


def test_shipped_study_configs_load(tmp_path: Path) -> None:
    studies = ("generalization-cpu", "generalization-gpu", "dose-response-cpu", "dose-response-gpu")
    for name in (*studies, "smoke"):
        config = load_study_config(REPO / "configs" / "study" / f"{name}.yaml")
        assert config.reference == "none" and len(config.seeds) >= 2
        assert {"none", "sinkhorn", "potentials"} <= set(config.arms)
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "configs/study/smoke.yaml").read_text() + "stepz: 3\n")
    with pytest.raises(ValueError, match="stepz"):
        load_study_config(bad)
    with pytest.raises(ValueError, match="unknown arms"):
        load_study_config(REPO / "configs/study/smoke.yaml").with_overrides(arms=("none", "x"))


def test_dose_arms_merge_into_the_shared_objective() -> None:
    from baryir.study.training import fit_config

    config = load_study_config(REPO / "configs" / "study" / "dose-response-cpu.yaml")
    fit = fit_config(config, "sinkhorn-share-10", 0, Path("run"), {})
    model = fit["model"]
    shared = {"sinkhorn_points": "pooled", "potentials_patch_size": 48}
    assert model["objective"] == {**shared, "wb_solver": "sinkhorn", "sinkhorn_normalize": True}
    assert model["grad_shares"] == {"every": 50, "alignment_share": 0.1}
    plain = fit_config(config, "sinkhorn", 0, Path("run"), {})["model"]
    assert plain["objective"] == {**shared, "wb_solver": "sinkhorn"}
    assert plain["grad_shares"] == {"every": 50}
    assert config.fit["model"]["objective"] == shared  # not mutated


def test_short_runs_keep_the_warmup_under_a_tenth_of_the_run() -> None:
    from baryir.study.training import fit_config

    config = load_study_config(REPO / "configs" / "study" / "dose-response-cpu.yaml")
    assert config.fit["model"]["warmup_steps"] == 50 and config.steps >= 500
    assert fit_config(config, "none", 0, Path("run"), {})["model"]["warmup_steps"] == 50
    for steps, warmup in ((4, 0), (60, 6), (500, 50)):
        short = config.with_overrides(steps=steps)
        assert fit_config(short, "none", 0, Path("run"), {})["model"]["warmup_steps"] == warmup
    assert config.fit["model"]["warmup_steps"] == 50  # not mutated


def test_study_rows_refer_to_suites_and_carry_table_labels(tmp_path: Path) -> None:
    config = load_study_config(REPO / "configs" / "study" / "generalization-cpu.yaml")
    assert config.evaluation.do_no_harm == ("CBSD68:suite:do-no-harm",)
    harm = expand_specs(config.evaluation.do_no_harm)
    assert harm == ["CBSD68:clean", "CBSD68:noise:5", "CBSD68:jpeg:40"]
    for name in ("a", "b"):
        write_image(tmp_path / "CBSD68" / f"{name}.png", torch.rand(3, 16, 16))
    small = replace(
        config,
        evaluation=replace(
            config.evaluation,
            in_distribution=("CBSD68:25", "CBSD68:noise:25"),
            out_of_distribution=(),
            unseen_kinds=(),
            crop=None,
        ),
        budget_curve=None,
    )
    rows = build_rows(small, tmp_path)
    assert [(group, d.label) for group, d in rows] == [
        ("id", "CBSD68 noise:25"),
        ("id", "CBSD68 noise:25 #2"),
        ("harm", "CBSD68 clean"),
        ("harm", "CBSD68 noise:5"),
        ("harm", "CBSD68 jpeg:40"),
    ]
