"""The report of a study: CSV tables, a Markdown summary, plots and a README from a template.

The wording about the claim under test lives in the README template
(``README.template.md`` beside this module, or the study's ``readme_template``); the code says
only what the intervals say (:func:`answer_text`, :func:`mechanism_text`) and what the budget
curve says (:func:`budget_text`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from baryir.evaluation.embedding import plot_embedding_grid
from baryir.evaluation.report import save_figure
from baryir.io.atomic import atomic_write_text
from baryir.study.budget import (
    CurvePoint,
    check_targets,
    first_step_meeting,
    last_quarter_gain,
    mean_gain,
)
from baryir.study.config import ARMS, BudgetCurve, StudyConfig
from baryir.study.dose import ShareTrace, dose_rows, dose_table, dose_text, plot_dose, plot_shares
from baryir.study.mechanism import MechanismRow, MechanismSummary
from baryir.study.stats import GROUPS, ArmRow, DifferenceRow, ImageScore

__all__ = [
    "DEFAULT_TEMPLATE",
    "RunTiming",
    "StudyMeta",
    "answer_text",
    "budget_text",
    "curve_table",
    "difference_table",
    "mechanism_table",
    "mechanism_text",
    "plot_study",
    "psnr_table",
    "render_readme",
    "timing_table",
    "write_csv",
    "write_report",
]

DEFAULT_TEMPLATE = Path(__file__).with_name("README.template.md")
"""The README template used when the study names none."""


@dataclass(frozen=True)
class RunTiming:
    """Wall time of one run (training through ``baryir fit``, then evaluation)."""

    arm: str
    seed: int
    steps: int
    train_s: float
    eval_s: float
    cpu_s: float
    reused: bool = False


@dataclass(frozen=True)
class StudyMeta:
    """What the report says about how it was made."""

    command: str
    revision: str
    machine: str
    started: str
    finished: str
    duration_s: float
    identical_batches: str
    budget: str
    train_data: str
    evaluation: str


def _fmt(value: float, signed: bool = False) -> str:
    if value != value:  # nan
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def write_csv(path: Path, rows: Sequence[Any]) -> Path:
    """Write dataclass rows as CSV (header from the field names), atomically."""
    buffer = io.StringIO()
    names = [f.name for f in fields(rows[0])] if rows else []
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: f"{v:.6g}" if isinstance(v, float) else v for k, v in asdict(row).items()}
        )
    return atomic_write_text(path, buffer.getvalue())


def _row_order(arm_rows: Sequence[ArmRow]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r.group, r.row) for r in arm_rows))


def psnr_table(arm_rows: Sequence[ArmRow], arms: Sequence[str]) -> str:
    """Markdown: one line per row, ``mean ± std`` over seeds per arm, input PSNR first."""
    cell = {(r.row, r.arm): r for r in arm_rows}
    lines = [
        "| group | row | input | " + " | ".join(f"`{a}`" for a in arms) + " |",
        "|---|---|---:|" + "---:|" * len(arms),
    ]
    for group, row in _row_order(arm_rows):
        first = cell[row, arms[0]]
        values = [f"{_fmt(cell[row, a].psnr_mean)} ± {_fmt(cell[row, a].psnr_std)}" for a in arms]
        lines.append(
            f"| {GROUPS.get(group, group)} | `{row}` | {_fmt(first.input_psnr)} | "
            + " | ".join(values)
            + " |"
        )
    return "\n".join(lines)


_MARK = {"better": " ▲", "worse": " ▼", "inconclusive": ""}


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
                f"{_fmt(d.diff_mean, True)} [{_fmt(d.ci_low, True)}, {_fmt(d.ci_high, True)}]"
                f"{_MARK[d.verdict]}"
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


def plot_study(
    arm_rows: Sequence[ArmRow],
    differences: Sequence[DifferenceRow],
    arms: Sequence[str],
    reference: str,
    path: Path,
) -> Path:
    """Top: PSNR per row and arm (error bars: std over seeds; grey bars: the degraded input).
    Bottom: paired difference to ``reference`` with its bootstrap interval. The
    out-of-distribution rows are shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = _row_order(arm_rows)
    cell = {(r.row, r.arm): r for r in arm_rows}
    diff = {(d.row, d.arm): d for d in differences}
    x = np.arange(len(order))
    width = 0.8 / len(arms)
    colours = plt.get_cmap("tab10")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(9.0, 0.75 * len(order) + 3), 8))
    inputs = [cell[row, arms[0]].input_psnr for _, row in order]
    top.scatter(x, inputs, marker="_", s=300, color="0.45", label="degraded input", zorder=1)
    for k, arm in enumerate(arms):
        offset = (k - (len(arms) - 1) / 2) * width
        means = [cell[row, arm].psnr_mean for _, row in order]
        stds = [np.nan_to_num(cell[row, arm].psnr_std) for _, row in order]
        top.errorbar(
            x + offset, means, yerr=stds, fmt="o", ms=4, capsize=3, color=colours(k), label=arm
        )
        if arm == reference:
            continue
        mean = np.array([diff[row, arm].diff_mean for _, row in order])
        low = np.array([diff[row, arm].ci_low for _, row in order])
        high = np.array([diff[row, arm].ci_high for _, row in order])
        bottom.errorbar(
            x + offset,
            mean,
            yerr=[mean - low, high - mean],
            fmt="o",
            ms=4,
            capsize=3,
            color=colours(k),
            label=f"{arm} - {reference}",
        )
    bottom.axhline(0.0, color="black", lw=0.8)
    ood = [i for i, (group, _) in enumerate(order) if group in ("ood", "kinds")]
    for ax in (top, bottom):
        if ood:
            ax.axvspan(min(ood) - 0.5, max(ood) + 0.5, color="0.92", zorder=0)
        ax.set_xticks(x)
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.legend(fontsize=8, loc="best")
        ax.grid(axis="y", alpha=0.3)
    top.set_xticklabels([])
    bottom.set_xticklabels([row for _, row in order], rotation=35, ha="right", fontsize=8)
    top.set_ylabel("PSNR (dB), mean ± std over seeds")
    bottom.set_ylabel(f"PSNR difference to {reference} (dB)\n95% bootstrap CI")
    top.set_title("in distribution (white) | out of distribution (grey)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _wb_arms(arms: Sequence[str], reference: str) -> list[str]:
    """The arms with a WB solver (``ARMS`` entry with ``wb_solver`` other than ``none``)."""
    return [
        a for a in arms if a != reference and ARMS.get(a, {}).get("wb_solver", "none") != "none"
    ]


def answer_text(
    differences: Sequence[DifferenceRow],
    arms: Sequence[str],
    reference: str,
    level: float,
    practical: float = 0.05,
) -> tuple[str, str]:
    """The headline answer and one line per arm and group, from the intervals (not hard-coded).

    "The claim" is the one the README template states; it is about the WB arms (``ARMS``
    entries with a ``wb_solver`` other than ``none``): one supports it when the interval of its
    mean paired difference over the out-of-distribution rows lies above 0 and the mean is at
    least ``practical`` dB.

    Returns:
        ``(headline, per-arm bullet lines)`` in Markdown.
    """
    percent = f"{level * 100:g}%"
    lines, pooled_ood = [], {}
    for arm in arms:
        if arm == reference:
            continue
        for group in ("ood", "kinds", "id"):
            own = [d for d in differences if d.arm == arm and d.group == group]
            if not own:
                continue
            pooled = next(d for d in own if "(mean of" in d.row)
            per_row = [d for d in own if d is not pooled]
            counts = {v: sum(d.verdict == v for d in per_row) for v in ("better", "worse")}
            if pooled.verdict == "better":
                claim = f"beats `{reference}` beyond the seed and image noise"
            elif pooled.verdict == "worse":
                claim = f"is worse than `{reference}` beyond the seed and image noise"
            else:
                claim = f"is not distinguishable from `{reference}` (the interval contains 0)"
            if group == "ood":
                pooled_ood[arm] = pooled
            lines.append(
                f"- `{arm}`, {GROUPS[group]}: {_fmt(pooled.diff_mean, True)} dB "
                f"[{_fmt(pooled.ci_low, True)}, {_fmt(pooled.ci_high, True)}] ({percent} CI, "
                f"mean of {len(per_row)} rows): {claim}; per row, better on "
                f"{counts['better']}, worse on {counts['worse']}, inconclusive on "
                f"{len(per_row) - counts['better'] - counts['worse']} of {len(per_row)}."
            )
    wb_arms = [a for a in _wb_arms(arms, reference) if a in pooled_ood]
    better = [a for a in wb_arms if pooled_ood[a].verdict == "better"]
    strong = [a for a in better if pooled_ood[a].diff_mean >= practical]
    names = ", ".join(f"`{a}`" for a in (strong or better or wb_arms))
    interval = (
        f"the {percent} CI of the mean paired PSNR difference over the out-of-distribution rows"
    )
    if strong:
        headline = (
            f"Out of distribution, {names} beat `{reference}` beyond the seed and image noise "
            f"({interval} lies above 0, by at least {practical:g} dB). At this small scale this "
            "supports the claim."
        )
    elif better:
        headline = (
            f"Out of distribution, {names} beat `{reference}` beyond the seed and image noise "
            f"({interval} lies above 0) but by less than {practical:g} dB: too little to count "
            "as support for the claim."
        )
    else:
        headline = (
            f"Out of distribution, no WB arm ({names}) beats `{reference}` beyond the seed and "
            f"image noise: {interval} reaches 0 or below. This small study does not support "
            "the claim (nor does it refute it: see what the numbers do not show)."
        )
    return headline, "\n".join(lines)


_MECHANISM_COLUMNS = {
    "b_divergence": "b divergence",
    "r_divergence": "r divergence",
    "b_silhouette": "b silhouette",
    "r_silhouette": "r silhouette",
}


def _delta(row: MechanismRow) -> str:
    """``Δ +0.123 [-0.010, +0.250]`` (without the interval when it is nan: one seed)."""
    interval = f" [{row.ci_low:+.3f}, {row.ci_high:+.3f}]" if row.ci_low == row.ci_low else ""
    return f"Δ {row.diff_mean:+.3f}{interval}"


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
                text += f" ({_delta(r)}{_MARK[r.verdict]})"
            values.append(text)
        lines.append(f"| `{arm}` | " + " | ".join(values) + " |")
    return "\n".join(lines)


def mechanism_text(
    summary: MechanismSummary, arms: Sequence[str], reference: str, level: float
) -> str:
    """What the mechanism numbers mean, and whether each WB arm brings ``b`` closer than
    ``reference`` (the interval of its paired ``b_divergence`` difference lies below 0)."""
    cell = {(r.arm, r.metric): r for r in summary.rows}
    if not summary.runs:
        return "No mechanism was measured (no arm has a barycenter, or fewer than 2 rows)."
    first = summary.runs[0]
    labels = next(iter(summary.embeddings.values())).labels if summary.embeddings else []
    names = ", ".join(f"`{label}`" for label in dict.fromkeys(labels)) or f"{first.rows} rows"
    percent = f"{level * 100:g}%"
    meaning = (
        f"**Mechanism.** On the held-out inputs of the rows {names} ({first.images} images), "
        "each row one degradation, the barycenter b and residual r of every image are pooled "
        "over its positions. `b divergence` is the mean over "
        "pairs of rows of the debiased Sinkhorn divergence between the rows' clouds of b, the "
        "points divided by the root of their total variance: scale-free, so arms compare "
        "although their latent scales differ. 0: the degradations share one b distribution; "
        f"{first.rows / (first.rows - 1):.2f} (K/(K-1)): each row collapsed to its own point. "
        "With a few images a row, two samples of one distribution already give more than 0: "
        "compare the arms, not the values with 0. `r divergence` is the same for r (large: the "
        "residual carries the degradation); the silhouettes (about 0: mixed, 1: separated) say "
        "it per image. The paper's mechanism predicts a small b divergence and a large r "
        f"divergence. Δ: paired difference to `{reference}` over seeds, {percent} bootstrap "
        "interval (seeds resampled: coarse with few seeds)."
    )
    if (reference, "b_divergence") not in cell:
        return f"{meaning}\n\nThe reference arm `{reference}` has no barycenter: no comparison."
    wb = [a for a in _wb_arms(arms, reference) if (a, "b_divergence") in cell]
    if not wb:
        return f"{meaning}\n\nNo WB arm was measured."
    lines, closer = [], []
    for arm in wb:
        b, r = cell[arm, "b_divergence"], cell[arm, "r_divergence"]
        if b.ci_low != b.ci_low:
            said = "one seed: no interval, so no verdict"
        elif b.verdict == "worse":
            said = f"brings b closer than `{reference}` (the interval lies below 0)"
            closer.append(arm)
        elif b.verdict == "better":
            said = f"pushes b further apart than `{reference}` (the interval lies above 0)"
        else:
            said = f"does not bring b closer than `{reference}` beyond the seed noise"
        r_said = {"better": "larger", "worse": "smaller"}.get(r.verdict, "not distinguishable")
        reference_b = cell[reference, "b_divergence"].mean
        lines.append(
            f"- `{arm}`: b divergence {b.mean:.3f} against {reference_b:.3f}, "
            f"{_delta(b)}: {said}; r divergence {_delta(r)} ({r_said})."
        )
    if closer:
        answer = f"The WB arms {', '.join(f'`{a}`' for a in closer)} bring b closer than "
        answer += f"`{reference}`."
    else:
        answer = f"No WB arm brings b closer than `{reference}` beyond the seed noise."
    return f"{meaning}\n\n{answer}\n\n" + "\n".join(lines)


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
    inputs = " | ".join(_fmt(cell[steps[-1], row].input_psnr) for _, row in order)
    lines.append(f"| input | {inputs}" + " | " * len(groups) + " |")
    for step in steps:
        values = [_fmt(cell[step, row].psnr) if (step, row) in cell else "" for _, row in order]
        gains = [_fmt(mean_gain(points, step, g), True) for g in groups]
        lines.append(f"| {step} | " + " | ".join(values + gains) + " |")
    return "\n".join(lines)


def targets_text(
    points: Sequence[CurvePoint],
    curve: BudgetCurve,
    reference: str,
    reference_scores: Sequence[ImageScore],
) -> str:
    """The budget targets checked on the reference arm at the full budget (every seed) and
    the first step of the curve that meets them all (Markdown list; empty without targets)."""
    targets = curve.targets()
    if not targets:
        return ""
    checks = check_targets(reference_scores, targets)
    seeds = max((c.seeds for c in checks), default=0)
    lines = [
        f"Targets (`budget_curve.min_gain`, `min_psnr`), `{reference}` at the full budget, "
        f"mean over its {seeds} seeds (worst seed in brackets):",
        "",
    ]
    for c in checks:
        what = "gain over the input" if c.kind == "gain" else "PSNR"
        lines.append(
            f"- `{c.row}`: {what} {_fmt(c.value, c.kind == 'gain')} dB "
            f"({_fmt(c.worst, c.kind == 'gain')}), target {_fmt(c.target, c.kind == 'gain')}: "
            + ("met" if c.met else "**not met**")
        )
    missed = [c.row for c in checks if not c.met]
    verdict = "every target is met" if not missed else f"{len(missed)} of {len(checks)} missed"
    first = first_step_meeting(points, targets)
    where = (
        f"first meets every target at step {first}"
        if first is not None
        else "meets every target at none of its scored steps"
    )
    lines += ["", f"At the full budget {verdict}. The curve's run {where} (one run)."]
    return "\n".join(lines)


def budget_text(
    points: Sequence[CurvePoint],
    steps: int,
    curve: BudgetCurve | None,
    reference: str = "none",
    reference_scores: Sequence[ImageScore] = (),
) -> str:
    """Whether the last quarter of the budget added less than ``curve.plateau_db`` mean
    in-distribution PSNR on the curve's run (one sentence, or why it cannot be said), then
    the targets of :func:`targets_text`."""
    if curve is None or not points:
        return "No budget curve was recorded (set `budget_curve` in the study file)."
    targets = targets_text(points, curve, reference, reference_scores)
    return _plateau_text(points, steps, curve) + (f"\n\n{targets}" if targets else "")


def _plateau_text(points: Sequence[CurvePoint], steps: int, curve: BudgetCurve) -> str:
    found = last_quarter_gain(points, steps)
    if found is None:
        return (
            f"The budget curve has no checkpoint at or before 3/4 of the {steps} steps "
            "(lower `budget_curve.every`)."
        )
    start, gain = found
    if gain < curve.plateau_db:
        verdict_text = (
            f"under {curve.plateau_db:g} dB: the reference arm had nearly levelled off, so a "
            "larger budget would likely change its numbers little"
        )
    else:
        verdict_text = (
            f"at least {curve.plateau_db:g} dB: the reference arm was still improving, so a "
            "larger budget could change the comparison"
        )
    share = f"{(steps - start) / steps:.0%}"
    return (
        f"From step {start} to {steps} (the last {share} of the budget), the reference arm's "
        f"first run gained {gain:+.2f} dB mean in-distribution PSNR, {verdict_text} (one run: "
        "no interval)."
    )


def render_readme(template: str, values: dict[str, str]) -> str:
    """Fill a ``string.Template`` (``$name`` placeholders); a missing value is an error."""
    try:
        return Template(template).substitute(values)
    except KeyError as error:
        raise ValueError(f"README template: no value for placeholder {error}") from None


def write_report(
    config: StudyConfig,
    arm_rows: list[ArmRow],
    differences: list[DifferenceRow],
    scores: list[ImageScore],
    timings: list[RunTiming],
    meta: StudyMeta,
    mechanism: MechanismSummary | None = None,
    curve: Sequence[CurvePoint] = (),
    traces: Sequence[ShareTrace] = (),
) -> dict[str, Path]:
    """Write the Markdown, CSVs, plots and README of a finished study into ``config.output``.

    ``mechanism`` adds ``<name>-mechanism.csv`` (per arm and metric),
    ``<name>-mechanism-runs.csv`` (per run) and ``<name>-embedding.png`` (the first seed's
    ``b`` and ``r`` per arm); ``curve`` adds ``<name>-budget.csv``; ``traces`` (the alignment
    term's gradient share along each run) add the dose section, ``<name>-dose.csv``,
    ``<name>-dose.png`` (response against share) and ``<name>-shares.png`` (share along
    training).
    """
    out = Path(config.output)
    name = config.name
    files = {
        "csv": write_csv(out / f"{name}.csv", arm_rows),
        "differences": write_csv(out / f"{name}-differences.csv", differences),
        "per_image": write_csv(out / f"{name}-per-image.csv", scores),
        "timing": write_csv(out / f"{name}-timing.csv", timings),
        "plot": plot_study(
            arm_rows, differences, config.arms, config.reference, out / f"{name}.png"
        ),
    }
    mechanism = mechanism or MechanismSummary()
    if mechanism.runs:
        files["mechanism"] = write_csv(out / f"{name}-mechanism.csv", mechanism.rows)
        files["mechanism_runs"] = write_csv(out / f"{name}-mechanism-runs.csv", mechanism.runs)
    if mechanism.embeddings:
        panels = [(a, mechanism.embeddings[a]) for a in config.arms if a in mechanism.embeddings]
        files["embedding"] = plot_embedding_grid(panels, out / f"{name}-embedding.png")
    if curve:
        files["budget"] = write_csv(out / f"{name}-budget.csv", list(curve))
    mechanism_said = mechanism_text(mechanism, config.arms, config.reference, config.level)
    dose_said = ""
    if traces:
        clean_row = next((r for r in config.evaluation.do_no_harm if r.endswith(":clean")), None)
        doses = dose_rows(
            traces, differences, mechanism.rows, config.arms, config.reference, clean_row
        )
        files["dose"] = write_csv(out / f"{name}-dose.csv", doses)
        files["dose_plot"] = plot_dose(doses, config.reference, out / f"{name}-dose.png")
        files["shares_plot"] = plot_shares(traces, out / f"{name}-shares.png")
        dose_said = (
            "### Dose and response: the alignment's share of the gradient, and what it did\n\n"
            "Each arm's alignment term (`sinkhorn` or `potential`) has its share of the "
            "network's gradient measured during training (`train/grad_share/<term>`: the norm "
            "of that weighted term's gradient over the norm of the total's, every "
            f"`grad_share_every` steps; mean over {len(config.seeds)} seeds). Differences to "
            f"`{config.reference}`: PSNR in dB, b divergence as above, with "
            f"{config.level * 100:g}% intervals "
            "(▲ / ▼: the interval excludes 0).\n\n"
            f"{dose_table(doses, config.reference)}\n\n"
            f"{dose_text(doses, config.reference, config.level)}\n\n"
            f"![response against the measured share]({name}-dose.png)\n\n"
            f"![the alignment's share along training]({name}-shares.png)"
        )
    budget_said = budget_text(
        curve,
        config.steps,
        config.budget_curve,
        config.reference,
        [s for s in scores if s.arm == config.reference],
    )
    others = [a for a in config.arms if a != config.reference]
    headline, verdicts = answer_text(
        differences, config.arms, config.reference, config.level, config.practical_db
    )
    level = f"{config.level * 100:g}%"
    header = "\n".join(
        [
            f"- Command: `{meta.command}`",
            f"- Git revision: `{meta.revision}`",
            f"- Machine: {meta.machine}",
            f"- Started {meta.started}, finished {meta.finished} ({meta.duration_s / 60:.1f} min)",
            f"- Budget: {meta.budget}",
            f"- Training data: {meta.train_data}",
            f"- Evaluation: {meta.evaluation}",
            f"- Same training batches in every arm: {meta.identical_batches}",
        ]
    )
    embedding_picture = (
        f"![b and r per arm, first seed]({name}-embedding.png)" if "embedding" in files else ""
    )
    extra_files = "".join(
        f", `{files[kind].name}`"
        for kind in ("mechanism", "mechanism_runs", "budget")
        if kind in files
    )
    markdown = f"""# Study `{name}`: {len(others)} arms against `{config.reference}` at equal budget

{header}

## Answer (computed from the intervals)

{headline}

{verdicts}

## PSNR (dB): mean ± std over {len(config.seeds)} seeds

{psnr_table(arm_rows, config.arms)}

## Paired difference to `{config.reference}` (dB), {level} bootstrap CI over seeds and images

Each cell: mean over seeds and images of PSNR(arm) - PSNR(`{config.reference}`) on the same
image with the same seed, and its {level} percentile-bootstrap interval (seeds and images
resampled). ▲: the interval lies above 0 (better), ▼: below 0 (worse). The group lines weight
every row equally. Intervals are per row, not corrected for multiple comparisons.

{difference_table(differences, others)}

## Mechanism: do the degradations share b and differ in r? ({len(config.seeds)} seeds)

{mechanism_table(mechanism.rows, config.arms) if mechanism.rows else ""}

{mechanism_said}

{embedding_picture}

{dose_said}

## Budget: the reference arm along its training

{curve_table(curve) if curve else ""}

{budget_said}

## Wall time per arm

{timing_table(timings, config.arms)}

![PSNR per row and arm]({name}.png)

Files: `{name}.csv` (per arm and row), `{name}-differences.csv`, `{name}-per-image.csv`
(every image of every run), `{name}-timing.csv`{extra_files}.
"""
    files["markdown"] = atomic_write_text(out / f"{name}.md", markdown)
    template = Path(config.readme_template) if config.readme_template else DEFAULT_TEMPLATE
    if not template.is_file():
        raise FileNotFoundError(f"study {name}: README template not found: {template}")
    readme = render_readme(
        template.read_text(encoding="utf-8"),
        {
            "name": name,
            "headline": headline,
            "verdicts": verdicts,
            "header": header,
            "level": level,
            "reference": config.reference,
            "seeds": str(len(config.seeds)),
            "steps": str(config.steps),
            "differences": difference_table(
                [d for d in differences if "(mean of" in d.row or d.group == "ood"], others
            ),
            "markdown": f"{name}.md",
            "plot": f"{name}.png",
            "mechanism": mechanism_said,
            "dose": dose_said,
            "budget": budget_said,
        },
    )
    files["readme"] = atomic_write_text(out / "README.md", readme)
    return files
