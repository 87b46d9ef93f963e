"""A study's pictures: PSNR and paired differences per row and arm, ``b`` and ``r`` per arm, and
the dose (the response against the alignment's share, and the shares along training).

One network's embedding picture is :func:`baryir.evaluation.embedding.plot_embeddings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from baryir.evaluation.embedding import Embeddings, draw_embeddings, separation_scores
from baryir.evaluation.report import save_figure
from baryir.study.dose import DoseRow, ShareTrace
from baryir.study.stats import ArmRow, DifferenceRow
from report.tables import row_order

__all__ = ["plot_dose", "plot_embedding_grid", "plot_shares", "plot_study"]


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend, imported when a picture is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
    plt = _pyplot()

    order = row_order(arm_rows)
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


def plot_embedding_grid(panels: Sequence[tuple[str, Embeddings]], path: Path) -> Path:
    """One line per named network: the 2-D PCA of its ``b`` (left) and ``r`` (right).

    Each network gets its own PCA; colours follow the types (sorted over all panels), and the
    titles give the separation scores. PNG, written atomically.

    Args:
        panels: ``(name, embeddings)`` per line, e.g. one per arm of a study.
        path: the PNG file.
    """
    plt = _pyplot()

    if not panels:
        raise ValueError("plot_embedding_grid: no panels")
    names = sorted({label for _, embeddings in panels for label in embeddings.labels})
    colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 4.2 * len(panels)), squeeze=False)
    for line, (name, embeddings) in zip(axes, panels, strict=True):
        draw_embeddings(
            line, embeddings, names, colours, separation_scores(embeddings), f"{name}: "
        )
    axes[0, 1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_dose(rows: Sequence[DoseRow], reference: str, path: Path) -> Path:
    """Two panels against the measured mean share (log x): the b divergence (Δ to the reference,
    with its interval) and the out-of-distribution difference (dB, with its interval)."""
    plt = _pyplot()

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
    plt = _pyplot()

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
