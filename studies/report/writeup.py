"""Write up a finished study from its results: its Markdown page, README and pictures.

The results are the files ``baryir study`` wrote (:mod:`baryir.study.results`, read back by
:func:`report.results.read_results`). The README is ``README.template.md`` beside this module
(or the study's ``readme_template``) filled by :func:`render_readme` with the tables of
:mod:`report.tables` and the sentences of :mod:`report.prose`. A picture whose data the
results lack (the embeddings or shares of a study published before they were saved) is kept as
found in the folder.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from baryir.io.atomic import atomic_write_text
from baryir.study.config import StudyConfig
from report.plots import plot_dose, plot_embedding_grid, plot_shares, plot_study
from report.prose import answer_text, budget_text, dose_section, mechanism_text
from report.results import StudyResults
from report.tables import (
    curve_table,
    difference_table,
    mechanism_table,
    psnr_table,
    timing_table,
)

__all__ = ["DEFAULT_TEMPLATE", "render_readme", "write_report"]

DEFAULT_TEMPLATE = Path(__file__).with_name("README.template.md")
"""The README template used when the study names none."""


def render_readme(template: str, values: dict[str, str]) -> str:
    """Fill a ``string.Template`` (``$name`` placeholders); a missing value is an error."""
    try:
        return Template(template).substitute(values)
    except KeyError as error:
        raise ValueError(f"README template: no value for placeholder {error}") from None


def write_report(config: StudyConfig, results: StudyResults) -> dict[str, Path]:
    """Write the Markdown, plots and README of a finished study into its results' folder.

    With the mechanism, the Markdown has its table and ``<name>-embedding.png`` (the first
    seed's ``b`` and ``r`` per arm); with the budget curve, its table; with the dose, the dose
    section, ``<name>-dose.png`` (response against share) and ``<name>-shares.png`` (share
    along training).
    """
    out = results.folder
    name = config.name
    arm_rows, differences, scores = results.arm_rows, results.differences, results.scores
    timings, meta, curve = results.timings, results.meta, results.curve
    files = {
        "plot": plot_study(
            arm_rows, differences, config.arms, config.reference, out / f"{name}.png"
        ),
    }
    if results.embeddings:
        panels = [(a, results.embeddings[a]) for a in config.arms if a in results.embeddings]
        files["embedding"] = plot_embedding_grid(panels, out / f"{name}-embedding.png")
    elif results.mechanism_runs and (out / f"{name}-embedding.png").is_file():
        files["embedding"] = out / f"{name}-embedding.png"
    mechanism_said = mechanism_text(
        results.mechanism_rows,
        results.mechanism_runs,
        meta.mechanism_rows,
        config.arms,
        config.reference,
        config.level,
    )
    dose_said = ""
    if results.doses:
        files["dose_plot"] = plot_dose(results.doses, config.reference, out / f"{name}-dose.png")
        if results.traces:
            files["shares_plot"] = plot_shares(results.traces, out / f"{name}-shares.png")
        dose_said = dose_section(results.doses, config)
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
        f", `{name}{suffix}`"
        for suffix, present in (
            ("-mechanism.csv", results.mechanism_runs),
            ("-mechanism-runs.csv", results.mechanism_runs),
            ("-budget.csv", curve),
        )
        if present
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

{mechanism_table(results.mechanism_rows, config.arms) if results.mechanism_rows else ""}

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
