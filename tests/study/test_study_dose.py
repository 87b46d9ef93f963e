"""The dose section of a study: shares read from the runs' logs, rows and answers from the
intervals (known answers)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from report.prose import dose_text
from report.tables import dose_table

from baryir.study.dose import DoseRow, ShareTrace, alignment_term, dose_rows, read_shares
from baryir.study.mechanism import MechanismRow
from baryir.study.stats import DifferenceRow


def _metrics(path: Path, rows: list[tuple[int, str]]) -> None:
    path.mkdir(parents=True)
    lines = ["epoch,step,train/grad_share/sinkhorn,train/loss"]
    lines += [f"0,{step},{share},0.5" for step, share in rows]
    (path / "metrics.csv").write_text("\n".join(lines) + "\n")


def test_read_shares_and_their_means(tmp_path: Path) -> None:
    _metrics(tmp_path / "logs" / "version_0", [(0, "0.5"), (1, ""), (50, "0.1"), (100, "0.3")])
    trace = read_shares(tmp_path, "sinkhorn-share-10", 3)
    assert trace == ShareTrace(
        "sinkhorn-share-10", 3, "sinkhorn", ((0, 0.5), (50, 0.1), (100, 0.3))
    )
    assert trace.first() == 0.5
    assert trace.mean() == pytest.approx(0.3)
    assert trace.mean(0.75, 1.0) == pytest.approx(0.3)  # steps 75..100: the last one
    assert trace.mean(0.5, 1.0) == pytest.approx(0.2)
    assert read_shares(tmp_path, "none", 3) is None  # no alignment term
    assert read_shares(tmp_path / "missing", "sinkhorn", 3) is None
    assert alignment_term("potentials") == "potential" and alignment_term("none") is None


def _difference(arm: str, group: str, row: str, mean: float, low: float, high: float):
    return DifferenceRow(group, row, arm, "none", mean, low, high, "", 2, 8)


def _mechanism(arm: str, diff: float, low: float, high: float) -> MechanismRow:
    return MechanismRow(arm, "b_divergence", 0.8 + diff, 0.01, "none", diff, low, high, "", 2)


def test_rows_and_answers_follow_the_intervals() -> None:
    traces = [
        ShareTrace("sinkhorn-share-10", s, "sinkhorn", ((0, 0.001), (100, 0.1))) for s in (0, 1)
    ]
    traces.append(ShareTrace("sinkhorn-share-30", 0, "sinkhorn", ((0, 0.001), (100, 0.3))))
    differences = []
    for arm, ood, id_ in (
        ("sinkhorn-share-10", (0.4, 0.1, 0.7), (-0.1, -0.3, 0.1)),
        ("sinkhorn-share-30", (0.2, -0.1, 0.5), (-0.8, -1.0, -0.6)),
    ):
        differences += [
            _difference(arm, "ood", "out-of-distribution (mean of 8 rows)", *ood),
            _difference(arm, "ood", "CBSD68:jpeg:20", 9.0, 8.0, 10.0),
            _difference(arm, "id", "in-distribution (mean of 5 rows)", *id_),
            _difference(arm, "harm", "CBSD68:clean", -0.2, -0.4, 0.0),
        ]
    mechanism = [
        _mechanism("sinkhorn-share-10", -0.2, -0.3, -0.1),
        _mechanism("sinkhorn-share-30", 0.1, 0.05, 0.2),
    ]
    arms = ["none", "sinkhorn-share-10", "sinkhorn-share-30"]
    rows = dose_rows(traces, differences, mechanism, arms, "none", "CBSD68:clean")
    assert [r.arm for r in rows] == arms[1:]
    ten = rows[0]
    assert (ten.share_first, ten.share_mean, ten.share_end) == pytest.approx((0.001, 0.0505, 0.1))
    assert ten.ood == (0.4, 0.1, 0.7) and ten.clean == (-0.2, -0.4, 0.0)
    assert math.isnan(ten.kinds[0])  # no such group in this study
    text = dose_text(rows, "none", 0.95)
    assert "Yes: `sinkhorn-share-10` (5.1 %) bring" in text
    assert "`sinkhorn-share-30` (15 %) push b further apart" in text
    assert "`sinkhorn-share-10` (5.1 %) beat `none`" in text and "share-30` (15 %) beat" not in text
    assert "`sinkhorn-share-10` helps out of distribution" in text  # ID cost 0.1 < 0.3 dB
    table = dose_table(rows, "none")
    assert "| `sinkhorn-share-10` (sinkhorn) | 0.1 % / 5.1 % / 10 % |" in table
    assert "+0.40 [+0.10, +0.70] ▲" in table and "-0.80 [-1.00, -0.60] ▼" in table


def test_no_dose_that_helps_gives_no_recipe() -> None:
    row = DoseRow(
        "sinkhorn", "sinkhorn", 0.01, 0.01, 0.01, 0.9, 0.05, -0.1, 0.2,
        (-0.5, -0.7, -0.3), (0.5, 0.2, 0.8), (0.0, -1, 1), (0, -1, 1), (0, -1, 1),
    )  # fmt: skip
    text = dose_text([row], "none", 0.95)
    assert "No: no arm's paired b-divergence difference" in text
    assert "No dose helps out of distribution beyond the noise at an in-distribution cost" in text
    assert dose_text([], "none", 0.95).startswith("No arm has an alignment term")
