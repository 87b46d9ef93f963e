"""The evaluation report: tables (printed, CSV, Markdown), side-by-side comparison pictures and
the examples they show (:class:`ExampleKeeper`).

The callback that writes them at the end of ``baryir test``, :class:`~baryir.tasks.callbacks.
TestReport`, lives with the other callbacks.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import Tensor

from baryir.evaluation.scorer import ROW_KEYS as COLUMNS
from baryir.io.atomic import atomic_path, atomic_write_text

__all__ = [
    "COLUMNS",
    "ExampleKeeper",
    "describe_protocol",
    "format_table",
    "log_table",
    "save_comparison_grid",
    "save_figure",
    "write_image_scores",
    "write_tables",
]

log = logging.getLogger(__name__)


def format_table(
    results: dict[str, dict[str, float]], columns: Sequence[str] = COLUMNS, markdown: bool = False
) -> str:
    """Render ``{row label: {column: value}}`` plus an average row as a text or Markdown table."""
    rows = [
        [label] + [f"{values.get(c, float('nan')):.4f}" for c in columns]
        for label, values in results.items()
    ]
    if results:
        mean = [
            sum(v.get(c, float("nan")) for v in results.values()) / len(results) for c in columns
        ]
        rows.append(["average"] + [f"{m:.4f}" for m in mean])
    header = ["test set", *columns]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def write_tables(
    results: dict[str, dict[str, float]], out_dir: Path, columns: Sequence[str] = COLUMNS
) -> tuple[Path, Path]:
    """Write ``results.csv`` and ``results.md`` into ``out_dir``; returns both paths."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["test_set", *columns])
    for label, values in results.items():
        writer.writerow([label] + [f"{values.get(c, float('nan')):.6f}" for c in columns])
    csv_path, md_path = out_dir / "results.csv", out_dir / "results.md"
    atomic_write_text(csv_path, buffer.getvalue())
    atomic_write_text(md_path, format_table(results, columns, markdown=True) + "\n")
    return csv_path, md_path


def write_image_scores(scores: Sequence[tuple[str, str, float, float]], out_dir: Path) -> Path:
    """Write ``per_image.csv`` (``test_set, image, input_psnr, psnr``) into ``out_dir``.

    ``scores`` holds one ``(test set, image name, input PSNR, restored PSNR)`` per image, e.g.
    to count the clean photos a model brought below 30 dB.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["test_set", "image", "input_psnr", "psnr"])
    for label, name, input_psnr, psnr in scores:
        writer.writerow([label, name, f"{input_psnr:.6f}", f"{psnr:.6f}"])
    path = out_dir / "per_image.csv"
    atomic_write_text(path, buffer.getvalue())
    return path


def save_comparison_grid(
    examples: Sequence[tuple[str, Tensor, Tensor, Tensor, float, float]], path: Path
) -> Path:
    """Save rows of degraded | restored | clean with PSNR captions as one PNG.

    Args:
        examples: ``(title, degraded, restored, clean, input_psnr, psnr)`` with images
            ``(3, H, W)`` in [0, 1].
        path: PNG file to write (atomically).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(len(examples), 1)
    fig, axes = plt.subplots(rows, 3, figsize=(9, 3 * rows), squeeze=False)
    for row, (title, degraded, restored, clean, input_psnr, psnr) in enumerate(examples):
        panels = [
            (degraded, f"{title}\ndegraded {input_psnr:.2f} dB"),
            (restored, f"restored {psnr:.2f} dB"),
            (clean, "ground truth"),
        ]
        for col, (image, caption) in enumerate(panels):
            axes[row, col].imshow(image.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy())
            axes[row, col].set_title(caption, fontsize=9)
            axes[row, col].axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig: Any, path: Path, dpi: int = 100) -> Path:
    """Save a matplotlib figure as PNG atomically (temporary file, then rename) and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path


class ExampleKeeper:
    """An ``on_image`` hook (:data:`~baryir.evaluation.runner.ImageCallback`) that keeps the
    first ``per_set`` images of each row for :func:`save_comparison_grid`, with the scores the
    scorer gave them.

    ``examples`` holds ``(title, degraded, restored, clean, input_psnr, psnr)`` in the order
    seen; the title is ``"<row label> <image name>"``.

    Example:
        >>> keeper = ExampleKeeper(per_set=1)
        >>> image = torch.zeros(3, 8, 8)
        >>> item = {"name": "a", "input": image, "target": image, "input_psnr": 20.0, "psnr": 30.0}
        >>> keeper("row", item, image); keeper("row", {**item, "name": "b"}, image)
        >>> [example[0] for example in keeper.examples]
        ['row a']
    """

    def __init__(self, per_set: int) -> None:
        if per_set < 0:
            raise ValueError(f"ExampleKeeper: per_set must be >= 0, got {per_set}")
        self.per_set = per_set
        self.examples: list[tuple[str, Tensor, Tensor, Tensor, float, float]] = []
        self.counts: dict[str, int] = {}

    def __call__(self, label: str, item: dict[str, Any], restored: Tensor) -> None:
        count = self.counts.get(label, 0)
        if count >= self.per_set:
            return
        self.counts[label] = count + 1
        name = str(item["name"]) if item.get("name") is not None else str(count)
        # file names that are not UTF-8 hold surrogates, which fonts cannot draw
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
        images = (item["input"].cpu(), restored.cpu(), item["target"].cpu())
        scores = (float(item["input_psnr"]), float(item["psnr"]))
        self.examples.append((f"{label} {name}", *images, *scores))


def log_table(logger: Any, results: dict[str, dict[str, float]]) -> None:
    """Send the results table to the active logger (a W&B table, or text for TensorBoard)."""
    if logger is None or not results:
        return
    columns = ["test_set", *COLUMNS]
    data = [
        [label] + [values.get(c, float("nan")) for c in COLUMNS]
        for label, values in results.items()
    ]
    if hasattr(logger, "log_table"):
        logger.log_table(key="test/results", columns=columns, data=data)
    elif hasattr(getattr(logger, "experiment", None), "add_text"):
        logger.experiment.add_text("test/results", format_table(results, markdown=True))


def describe_protocol(protocol: Any, precision: str = "fp32") -> str:
    """One line saying how the metrics were computed, ending with the network's ``precision``
    (fp32 unless a trainer ran another, e.g. ``bf16-mixed``)."""
    return (
        f"{protocol.channel.upper()} channels, data range {protocol.data_range:g}, "
        f"{'8-bit quantised output, ' if protocol.quantize else ''}"
        f"border crop {protocol.crop_border}, {protocol.size_policy} to a multiple of 8, "
        f"network in {precision}"
    )
