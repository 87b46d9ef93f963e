"""A study report's Markdown tables (the CSV files are written by :mod:`baryir.study.results`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from baryir.study.budget import CurvePoint
from baryir.study.dose import DoseRow
from baryir.study.mechanism import MechanismRow
from baryir.study.stats import GROUPS, ArmRow, DifferenceRow
from baryir.study.training import RunTiming
from report.budget_checks import mean_gain

__all__ = [
    "VERDICT_MARK",
    "curve_table",
    "difference_table",
    "dose_table",
    "format_delta",
    "format_interval",
    "format_number",
    "format_share",
    "mechanism_table",
    "psnr_table",
    "row_order",
    "timing_table",
]

VERDICT_MARK = {"better": " ▲", "worse": " ▼", "inconclusive": ""}
"""The mark after a difference whose interval excludes 0."""


def format_number(value: float, signed: bool = False) -> str:
    """``value`` to 2 decimals (with its sign when ``signed``); ``n/a`` for nan."""
    if value != value:  # nan
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def row_order(arm_rows: Sequence[ArmRow]) -> list[tuple[str, str]]:
    """``(group, row)`` in the order of their first appearance."""
    return list(dict.fromkeys((r.group, r.row) for r in arm_rows))


def psnr_table(arm_rows: Sequence[ArmRow], arms: Sequence[str]) -> str:
    """Markdown: one line per row, ``mean ± std`` over seeds per arm, input PSNR first."""
    cell = {(r.row, r.arm): r for r in arm_rows}
    lines = [
        "| group | row | input | " + " | ".join(f"`{a}`" for a in arms) + " |",
        "|---|---|---:|" + "---:|" * len(arms),
    ]
    for group, row in row_order(arm_rows):
        first = cell[row, arms[0]]
        values = [
            f"{format_number(cell[row, a].psnr_mean)} ± {format_number(cell[row, a].psnr_std)}"
            for a in arms
        ]
        lines.append(
            f"| {GROUPS.get(group, group)} | `{row}` | {format_number(first.input_psnr)} | "
            + " | ".join(values)
            + " |"
        )
    return "\n".join(lines)


def difference_table(differences: Sequence[DifferenceRow], arms: Sequence[str]) -> str:
    """Markdown: mean paired difference ``[low, high]`` per arm; ▲/▼ when the CI excludes 0."""
    cell = {(d.row, d.arm): d for d in differences}
    order = list(dict.fromkeys((d.group, d.row) for d in differences))
    lines = [
        "| group | row | " + " | ".join(f"`{a}`" for a in arms) + " |",
        "|---|---|" + "---:|" * len(arms),
    ]
    for group, row in order:
        values = []
        for arm in arms:
            d = cell[row, arm]
            values.append(
                f"{format_number(d.diff_mean, True)} "
                f"[{format_number(d.ci_low, True)}, {format_number(d.ci_high, True)}]"
                f"{VERDICT_MARK[d.verdict]}"
            )
        name = f"**{row}**" if "(mean of" in row else f"`{row}`"
        lines.append(f"| {GROUPS.get(group, group)} | {name} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def timing_table(timings: Sequence[RunTiming], arms: Sequence[str]) -> str:
    """Markdown: mean training/evaluation wall time per arm over its seeds."""
    lines = [
        "| arm | runs | train s (mean) | s/step | eval s (mean) | total s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for arm in arms:
        own = [t for t in timings if t.arm == arm]
        if not own:
            continue
        train = float(np.mean([t.train_s for t in own]))
        evaluation = float(np.mean([t.eval_s for t in own]))
        total = sum(t.train_s + t.eval_s for t in own)
        reused = " (reused)" if any(t.reused for t in own) else ""
        lines.append(
            f"| `{arm}`{reused} | {len(own)} | {train:.1f} | {train / own[0].steps:.3f} | "
            f"{evaluation:.1f} | {total:.0f} |"
        )
    return "\n".join(lines)


_MECHANISM_COLUMNS = {
    "b_divergence": "b divergence",
    "r_divergence": "r divergence",
    "b_silhouette": "b silhouette",
    "r_silhouette": "r silhouette",
}


def format_delta(row: MechanismRow) -> str:
    """``Δ +0.123 [-0.010, +0.250]`` (without the interval when it is nan: one seed)."""
    return "Δ " + format_interval((row.diff_mean, row.ci_low, row.ci_high), 3, mark=False)


def mechanism_table(rows: Sequence[MechanismRow], arms: Sequence[str]) -> str:
    """Markdown: per measured arm, ``mean ± std`` over seeds of each metric and, for the other
    arms, ``Δ`` (paired difference to the reference) ``[low, high]``, ▲/▼ when it excludes 0."""
    cell = {(r.arm, r.metric): r for r in rows}
    lines = [
        "| arm | " + " | ".join(_MECHANISM_COLUMNS.values()) + " |",
        "|---|" + "---:|" * len(_MECHANISM_COLUMNS),
    ]
    for arm in arms:
        if (arm, "b_divergence") not in cell:
            continue
        values = []
        for metric in _MECHANISM_COLUMNS:
            r = cell[arm, metric]
            text = f"{r.mean:.3f} ± {r.std:.3f}" if r.std == r.std else f"{r.mean:.3f}"
            if r.verdict != "reference" and r.diff_mean == r.diff_mean:
                text += f" ({format_delta(r)}{VERDICT_MARK[r.verdict]})"
            values.append(text)
        lines.append(f"| `{arm}` | " + " | ".join(values) + " |")
    return "\n".join(lines)


def curve_table(points: Sequence[CurvePoint]) -> str:
    """Markdown: one line per step, the PSNR of every row and the mean gain over the input of
    the in-distribution and do-no-harm rows."""
    order = list(dict.fromkeys((p.group, p.row) for p in points))
    cell = {(p.step, p.row): p for p in points}
    steps = sorted({p.step for p in points})
    groups = [g for g in ("id", "harm") if any(group == g for group, _ in order)]
    lines = [
        "| steps | "
        + " | ".join(f"`{row}`" for _, row in order)
        + "".join(f" | {GROUPS[g]} gain" for g in groups)
        + " |",
        "|---:|" + "---:|" * (len(order) + len(groups)),
    ]
    inputs = " | ".join(format_number(cell[steps[-1], row].input_psnr) for _, row in order)
    lines.append(f"| input | {inputs}" + " | " * len(groups) + " |")
    for step in steps:
        values = [
            format_number(cell[step, row].psnr) if (step, row) in cell else "" for _, row in order
        ]
        gains = [format_number(mean_gain(points, step, g), True) for g in groups]
        lines.append(f"| {step} | " + " | ".join(values + gains) + " |")
    return "\n".join(lines)


def format_interval(value: tuple[float, ...], digits: int = 2, mark: bool = True) -> str:
    """``+m [+lo, +hi]``, with ▲ / ▼ when the interval excludes 0 (``mark``); ``+m`` alone when
    the interval is NaN (one seed); ``-`` when the mean is NaN."""
    mean, low, high = value
    if mean != mean:
        return "-"
    if low != low:
        return f"{mean:+.{digits}f}"
    sign = (" ▲" if low > 0 else " ▼" if high < 0 else "") if mark else ""
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]{sign}"


def format_share(value: float) -> str:
    """A fraction as a percentage with two significant digits; ``-`` for NaN."""
    return "-" if value != value else f"{100 * value:.2g} %"


def dose_table(rows: Sequence[DoseRow], reference: str) -> str:
    """Markdown: arm, measured share (first / mean / last quarter), b divergence and its Δ, and
    the paired PSNR differences (dB) per group, each with its interval."""
    lines = [
        "| arm | alignment share: step 0 / mean / last quarter | b divergence (Δ to "
        f"`{reference}`) | in-distribution | out-of-distribution | unseen kinds | do no harm | "
        "clean |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        shares = " / ".join(format_share(v) for v in (r.share_first, r.share_mean, r.share_end))
        b = "-" if r.b_divergence != r.b_divergence else f"{r.b_divergence:.3f}"
        if r.b_delta == r.b_delta:
            b += f" ({format_interval((r.b_delta, r.b_low, r.b_high), 3)})"
        cells = [format_interval(v) for v in (r.id, r.ood, r.kinds, r.harm, r.clean)]
        lines.append(f"| `{r.arm}` ({r.term}) | {shares} | {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
