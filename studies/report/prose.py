"""A study's generated prose: what the intervals, the mechanism and the budget curve say.

The wording about the claim under test lives in the README template
(:data:`report.writeup.DEFAULT_TEMPLATE` or the study's ``readme_template``); this module
says only what the intervals say (:func:`answer_text`, :func:`mechanism_text`), what the budget
curve says (:func:`budget_text`) and what the dose says (:func:`dose_section`).
"""

from __future__ import annotations

from collections.abc import Sequence

from baryir.study.budget import CurvePoint
from baryir.study.config import BudgetCurve, StudyConfig, arm_solver
from baryir.study.dose import DoseRow
from baryir.study.mechanism import MechanismRow, MechanismScore
from baryir.study.stats import GROUPS, DifferenceRow, ImageScore
from report.budget_checks import check_targets, first_step_meeting, last_quarter_gain
from report.tables import (
    dose_table,
    format_delta,
    format_interval,
    format_number,
    format_share,
)

__all__ = [
    "MAX_ID_COST_DB",
    "answer_text",
    "budget_text",
    "dose_section",
    "dose_text",
    "mechanism_text",
    "targets_text",
]

MAX_ID_COST_DB = 0.3
"""The most in-distribution PSNR a helpful dose may cost (dB) to become a named recipe."""


def _wb_arms(arms: Sequence[str], reference: str) -> list[str]:
    """The arms with a WB solver (:func:`~baryir.study.config.arm_solver` other than ``none``)."""
    return [a for a in arms if a != reference and arm_solver(a) != "none"]


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
                f"- `{arm}`, {GROUPS[group]}: {format_number(pooled.diff_mean, True)} dB "
                f"[{format_number(pooled.ci_low, True)}, {format_number(pooled.ci_high, True)}] "
                f"({percent} CI, "
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


def mechanism_text(
    rows: Sequence[MechanismRow],
    runs: Sequence[MechanismScore],
    labels: Sequence[str],
    arms: Sequence[str],
    reference: str,
    level: float,
) -> str:
    """What the mechanism numbers mean, and whether each WB arm brings ``b`` closer than
    ``reference`` (the interval of its paired ``b_divergence`` difference lies below 0).

    ``rows`` and ``runs`` are the mechanism's per-arm rows and per-run scores, ``labels`` the
    compared rows (the results' ``meta.mechanism_rows``)."""
    cell = {(r.arm, r.metric): r for r in rows}
    if not runs:
        return "No mechanism was measured (no arm has a barycenter, or fewer than 2 rows)."
    first = runs[0]
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
            f"{format_delta(b)}: {said}; r divergence {format_delta(r)} ({r_said})."
        )
    if closer:
        answer = f"The WB arms {', '.join(f'`{a}`' for a in closer)} bring b closer than "
        answer += f"`{reference}`."
    else:
        answer = f"No WB arm brings b closer than `{reference}` beyond the seed noise."
    return f"{meaning}\n\n{answer}\n\n" + "\n".join(lines)


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
            f"- `{c.row}`: {what} {format_number(c.value, c.kind == 'gain')} dB "
            f"({format_number(c.worst, c.kind == 'gain')}), "
            f"target {format_number(c.target, c.kind == 'gain')}: "
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


def dose_section(doses: Sequence[DoseRow], config: StudyConfig) -> str:
    """The report's dose-and-response section: the table, the answers and the two plots."""
    name = config.name
    return (
        "### Dose and response: the alignment's share of the gradient, and what it did\n\n"
        "Each arm's alignment term (`sinkhorn` or `potential`) has its share of the "
        "network's gradient measured during training (`train/grad_share/<term>`: the norm "
        "of that weighted term's gradient over the norm of the total's, every "
        f"`grad_shares.every` steps; mean over {len(config.seeds)} seeds). Differences to "
        f"`{config.reference}`: PSNR in dB, b divergence as above, with "
        f"{config.level * 100:g}% intervals "
        "(▲ / ▼: the interval excludes 0).\n\n"
        f"{dose_table(doses, config.reference)}\n\n"
        f"{dose_text(doses, config.reference, config.level)}\n\n"
        f"![response against the measured share]({name}-dose.png)\n\n"
        f"![the alignment's share along training]({name}-shares.png)"
    )


def dose_text(rows: Sequence[DoseRow], reference: str, level: float) -> str:
    """The answers to (a), (b) and (c), from the intervals, and whether a dose earns a recipe."""
    percent = f"{level * 100:g}%"
    rows = [r for r in rows if r.term != "-"]
    if not rows:
        return "No arm has an alignment term: no dose to compare."

    def names(chosen: Sequence[DoseRow]) -> str:
        return ", ".join(f"`{r.arm}` ({format_share(r.share_mean)})" for r in chosen)

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
        f"image noise: " + "; ".join(f"`{r.arm}` {format_interval(r.ood)} dB" for r in helped) + "."
        if helped
        else f"No arm beats `{reference}` out of distribution beyond the seed and image noise "
        f"(every {percent} interval of the pooled difference reaches 0 or below)."
    )
    if hurt:
        b += (
            " Worse beyond the noise: "
            + "; ".join(f"`{r.arm}` {format_interval(r.ood)} dB" for r in hurt)
            + "."
        )
    c = (
        "**(c) What does it cost in distribution and on clean photos?** "
        + "; ".join(
            f"`{r.arm}`: in distribution {format_interval(r.id)} dB, "
            f"clean {format_interval(r.clean)} dB"
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
