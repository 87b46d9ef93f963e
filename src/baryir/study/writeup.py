"""Write up a finished study: its CSV tables, plots, Markdown page and README.

The README is ``README.template.md`` beside this module (or the study's ``readme_template``)
filled by :func:`render_readme` with the tables of :mod:`baryir.study.tables` and the
sentences of :mod:`baryir.study.prose`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from string import Template

from baryir.data.datasets.testsets import test_set_label
from baryir.data.suites import expand_specs
from baryir.io.atomic import atomic_write_text
from baryir.study.budget import CurvePoint
from baryir.study.config import StudyConfig
from baryir.study.dose import ShareTrace, dose_rows
from baryir.study.mechanism import MechanismSummary
from baryir.study.meta import StudyMeta
from baryir.study.plots import plot_dose, plot_embedding_grid, plot_shares, plot_study
from baryir.study.prose import answer_text, budget_text, dose_section, mechanism_text
from baryir.study.stats import ArmRow, DifferenceRow, ImageScore
from baryir.study.tables import (
    curve_table,
    difference_table,
    mechanism_table,
    psnr_table,
    timing_table,
    write_csv,
)
from baryir.study.training import RunTiming

__all__ = ["DEFAULT_TEMPLATE", "render_readme", "write_report"]

DEFAULT_TEMPLATE = Path(__file__).with_name("README.template.md")
"""The README template used when the study names none."""


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
        harm = expand_specs(config.evaluation.do_no_harm)
        clean_row = next((test_set_label(r) for r in harm if r.endswith(":clean")), None)
        doses = dose_rows(
            traces, differences, mechanism.rows, config.arms, config.reference, clean_row
        )
        files["dose"] = write_csv(out / f"{name}-dose.csv", doses)
        files["dose_plot"] = plot_dose(doses, config.reference, out / f"{name}-dose.png")
        files["shares_plot"] = plot_shares(traces, out / f"{name}-shares.png")
        dose_said = dose_section(doses, config)
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
