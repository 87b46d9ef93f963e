"""Dose and response: how much of the gradient the alignment had, and what it did.

Every run of a study logs each loss term's share of the network's gradient
(``train/grad_share/<term>`` in its ``metrics.csv``: :mod:`baryir.tasks.balance`). Per arm this
module reads the share of its alignment term (``sinkhorn`` or ``potential``) along training
(:func:`read_shares`) and puts it beside what the arm did (:class:`DoseRow`): the b divergence
of the mechanism and the paired PSNR differences to the reference per group, each with its
interval. :func:`dose_text` answers three questions from those intervals: (a) does any arm
align ``b`` beyond the reference, (b) does any help out of distribution, (c) at what cost in
distribution and on clean photos; :func:`plot_dose` draws the response against the measured
share, :func:`plot_shares` the shares along training.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from baryir.study.config import ARMS
from baryir.study.mechanism import MechanismRow
from baryir.study.stats import DifferenceRow

__all__ = [
    "DoseRow",
    "ShareTrace",
    "alignment_term",
    "dose_rows",
    "dose_table",
    "dose_text",
    "plot_dose",
    "plot_shares",
    "read_shares",
]

MAX_ID_COST_DB = 0.3
"""The most in-distribution PSNR a helpful dose may cost (dB) to become a named recipe."""


def alignment_term(arm: str) -> str | None:
    """The alignment term of an arm's WB solver: ``sinkhorn``, ``potential`` or None."""
    solver = ARMS.get(arm, {}).get("wb_solver", "none")
    return {"sinkhorn": "sinkhorn", "potentials": "potential"}.get(solver)


@dataclass(frozen=True)
class ShareTrace:
    """One run's measured share of its alignment term: ``(step, share)`` as logged."""

    arm: str
    seed: int
    term: str
    points: tuple[tuple[int, float], ...]

    def first(self) -> float:
        """The first measurement (step 0: the initial weights, before any balancing)."""
        return self.points[0][1] if self.points else math.nan

    def mean(self, start: float = 0.0, end: float = 1.0) -> float:
        """Mean share over the logged steps from ``start`` to ``end`` of the run (fractions of
        the last logged step, both included)."""
        last = self.points[-1][0] if self.points else 0
        chosen = [v for s, v in self.points if start * last <= s <= end * last]
        return float(np.mean(chosen)) if chosen else math.nan


def read_shares(run_dir: Path, arm: str, seed: int) -> ShareTrace | None:
    """The alignment term's share along a run, from ``<run>/logs/version_*/metrics.csv``.

    Returns:
        the trace, or None for an arm without an alignment term or a run that logged none.
    """
    term = alignment_term(arm)
    found = sorted(run_dir.glob("logs/version_*/metrics.csv"))
    if term is None or not found:
        return None
    column = f"train/grad_share/{term}"
    with found[-1].open(encoding="utf-8", newline="") as handle:
        points = tuple(
            (int(row["step"]), float(row[column]))
            for row in csv.DictReader(handle)
            if row.get(column) not in (None, "")
        )
    return ShareTrace(arm, seed, term, points) if points else None


@dataclass(frozen=True)
class DoseRow:
    """One arm: its measured share (mean over seeds) and what it did, each against the reference.

    ``share_first``: at step 0; ``share_mean``: over the whole run; ``share_end``: over its last
    quarter. ``b_divergence`` and ``b_delta``/``b_low``/``b_high``: the mechanism's scale-free b
    divergence and its paired difference to the reference (interval over seeds). ``id``,
    ``ood``, ``kinds``, ``harm``, ``clean``: paired PSNR differences (mean, low, high) of the
    groups' pooled rows and of the clean row.
    """

    arm: str
    term: str
    share_first: float
    share_mean: float
    share_end: float
    b_divergence: float
    b_delta: float
    b_low: float
    b_high: float
    id: tuple[float, float, float]
    ood: tuple[float, float, float]
    kinds: tuple[float, float, float]
    harm: tuple[float, float, float]
    clean: tuple[float, float, float]


_NAN3 = (math.nan, math.nan, math.nan)


def _last_quarter(trace: ShareTrace) -> float:
    return trace.mean(0.75, 1.0)


def _pooled(differences: Sequence[DifferenceRow], arm: str, group: str) -> tuple[float, ...]:
    row = next(
        (d for d in differences if d.arm == arm and d.group == group and "(mean of" in d.row),
        None,
    )
    return _NAN3 if row is None else (row.diff_mean, row.ci_low, row.ci_high)


def dose_rows(
    traces: Sequence[ShareTrace],
    differences: Sequence[DifferenceRow],
    mechanism: Sequence[MechanismRow],
    arms: Sequence[str],
    reference: str,
    clean_row: str | None,
) -> list[DoseRow]:
    """One row per arm other than ``reference`` (arms without an alignment term have share 0)."""
    cell = {(r.arm, r.metric): r for r in mechanism}
    rows = []
    for arm in arms:
        if arm == reference:
            continue
        own = [t for t in traces if t.arm == arm]
        missing = 0.0 if alignment_term(arm) is None else math.nan
        shares = [
            float(np.mean([f(t) for t in own])) if own else missing
            for f in (ShareTrace.first, ShareTrace.mean, _last_quarter)
        ]
        b = cell.get((arm, "b_divergence"))
        clean = next(
            (d for d in differences if d.arm == arm and d.row == clean_row and clean_row), None
        )
        rows.append(
            DoseRow(
                arm,
                alignment_term(arm) or "-",
                *shares,
                b.mean if b else math.nan,
                b.diff_mean if b else math.nan,
                b.ci_low if b else math.nan,
                b.ci_high if b else math.nan,
                _pooled(differences, arm, "id"),
                _pooled(differences, arm, "ood"),
                _pooled(differences, arm, "kinds"),
                _pooled(differences, arm, "harm"),
                _NAN3 if clean is None else (clean.diff_mean, clean.ci_low, clean.ci_high),
            )
        )
    return rows


def _interval(value: tuple[float, ...], digits: int = 2) -> str:
    mean, low, high = value
    if mean != mean:
        return "-"
    if low != low:
        return f"{mean:+.{digits}f}"
    mark = " ▲" if low > 0 else " ▼" if high < 0 else ""
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]{mark}"


def _share(value: float) -> str:
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
        shares = " / ".join(_share(v) for v in (r.share_first, r.share_mean, r.share_end))
        b = "-" if r.b_divergence != r.b_divergence else f"{r.b_divergence:.3f}"
        b += f" ({_interval((r.b_delta, r.b_low, r.b_high), 3)})" if r.b_delta == r.b_delta else ""
        cells = [_interval(v) for v in (r.id, r.ood, r.kinds, r.harm, r.clean)]
        lines.append(f"| `{r.arm}` ({r.term}) | {shares} | {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dose_text(rows: Sequence[DoseRow], reference: str, level: float) -> str:
    """The answers to (a), (b) and (c), from the intervals, and whether a dose earns a recipe."""
    percent = f"{level * 100:g}%"
    rows = [r for r in rows if r.term != "-"]
    if not rows:
        return "No arm has an alignment term: no dose to compare."

    def names(chosen: Sequence[DoseRow]) -> str:
        return ", ".join(f"`{r.arm}` ({_share(r.share_mean)})" for r in chosen)

    aligned = [r for r in rows if r.b_high == r.b_high and r.b_high < 0]
    apart = [r for r in rows if r.b_low == r.b_low and r.b_low > 0]
    a = (
        f"**(a) Does any dose align b beyond `{reference}`?** "
        + (
            f"Yes: {names(aligned)} bring the degradations' b closer than `{reference}` (the "
            f"{percent} interval of the paired b-divergence difference lies below 0)."
            if aligned
            else f"No: no arm's paired b-divergence difference to `{reference}` has its "
            f"{percent} interval below 0."
        )
        + (f" {names(apart)} push b further apart." if apart else "")
        + " (Intervals over seeds only: coarse with few seeds.)"
    )
    helped = [r for r in rows if r.ood[1] == r.ood[1] and r.ood[1] > 0]
    hurt = [r for r in rows if r.ood[2] == r.ood[2] and r.ood[2] < 0]
    b = "**(b) Does alignment help out of distribution?** " + (
        f"{names(helped)} beat `{reference}` on the out-of-distribution rows beyond the seed and "
        f"image noise: " + "; ".join(f"`{r.arm}` {_interval(r.ood)} dB" for r in helped) + "."
        if helped
        else f"No arm beats `{reference}` out of distribution beyond the seed and image noise "
        f"(every {percent} interval of the pooled difference reaches 0 or below)."
    )
    if hurt:
        b += (
            " Worse beyond the noise: "
            + "; ".join(f"`{r.arm}` {_interval(r.ood)} dB" for r in hurt)
            + "."
        )
    c = (
        "**(c) What does it cost in distribution and on clean photos?** "
        + "; ".join(
            f"`{r.arm}`: in distribution {_interval(r.id)} dB, clean {_interval(r.clean)} dB"
            for r in rows
        )
        + "."
    )
    recipe = [r for r in helped if r.id[0] == r.id[0] and r.id[0] > -MAX_ID_COST_DB]
    if recipe:
        best = max(recipe, key=lambda r: r.ood[0])
        d = (
            f"**Recipe.** `{best.arm}` helps out of distribution beyond the noise at an "
            f"in-distribution cost under {MAX_ID_COST_DB} dB: it qualifies as a named recipe."
        )
    else:
        d = (
            "**Recipe.** No dose helps out of distribution beyond the noise at an "
            f"in-distribution cost under {MAX_ID_COST_DB} dB: no recipe is proposed."
        )
    return "\n\n".join([a, b, c, d])


def plot_dose(rows: Sequence[DoseRow], reference: str, path: Path) -> Path:
    """Two panels against the measured mean share (log x): the b divergence (Δ to the reference,
    with its interval) and the out-of-distribution difference (dB, with its interval)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from baryir.evaluation.report import save_figure

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.5, 6.5), sharex=True)
    shown = [r for r in rows if r.share_mean == r.share_mean and r.share_mean > 0]
    for r in shown:
        for axis, (mean, low, high) in (
            (top, (r.b_delta, r.b_low, r.b_high)),
            (bottom, r.ood),
        ):
            if mean != mean:
                continue
            err = None if low != low else [[mean - low], [high - mean]]
            axis.errorbar([r.share_mean], [mean], yerr=err, fmt="o", capsize=4)
            axis.annotate(r.arm, (r.share_mean, mean), textcoords="offset points", xytext=(6, 4))
    for axis in (top, bottom):
        axis.axhline(0.0, color="grey", lw=0.8)
        axis.set_xscale("log")
        axis.grid(alpha=0.3)
    top.set_ylabel(f"b divergence - {reference}\n(below 0: b aligned more)")
    bottom.set_ylabel(f"out-of-distribution PSNR\n- {reference} (dB)")
    bottom.set_xlabel("alignment term's share of the network's gradient (mean over training)")
    top.set_title("dose and response, 95% intervals", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_shares(traces: Sequence[ShareTrace], path: Path) -> Path:
    """The alignment term's share along training, one line per run (log y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from baryir.evaluation.report import save_figure

    fig, axis = plt.subplots(figsize=(6.5, 4))
    colours = {arm: f"C{i}" for i, arm in enumerate(dict.fromkeys(t.arm for t in traces))}
    for trace in traces:
        steps, values = zip(*trace.points, strict=True)
        label = (
            trace.arm if trace.seed == min(t.seed for t in traces if t.arm == trace.arm) else None
        )
        axis.plot(steps, np.maximum(values, 1e-7), color=colours[trace.arm], label=label, lw=1)
    axis.set_yscale("log")
    axis.set_xlabel("training step")
    axis.set_ylabel("alignment term's share of the gradient")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
