"""``baryir compare --ckpt CKPT --sets SPEC... --output DIR``: pictures of what a network does.

Writes into ``--output``:

- ``comparison.png``: rows of degraded | restored | ground truth with PSNR captions, the first
  ``--images-per-set`` images of each set (scored with :func:`baryir.evaluation.runner.evaluate`,
  whose table is printed and written as ``results.csv``/``results.md``);
- ``embedding.png`` (networks with a barycenter only): 2-D PCA of the spatially pooled
  barycenter ``b`` (left) and residual ``r`` (right) of each set's inputs, coloured by set, and
  the separation scores of :mod:`baryir.evaluation.embedding` (printed too). The paper expects
  ``b`` to mix the degradation types and ``r`` to separate them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baryir compare", description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="Lightning .ckpt or exported .safetensors")
    parser.add_argument(
        "--sets", nargs="+", required=True, help="test set specs: CBSD68:25 Rain100H ..."
    )
    parser.add_argument("--output", required=True, help="folder for the pictures and tables")
    parser.add_argument("--model", default=None, help="registry name if the weights carry none")
    parser.add_argument("--root", default=None, help="data root (default: shared data)")
    parser.add_argument("--seed", type=int, default=0, help="seed of synthetic degradations")
    parser.add_argument("--images-per-set", type=int, default=2, help="rows per set in the grid")
    parser.add_argument("--max-images", type=int, default=None, help="images scored per set")
    parser.add_argument(
        "--embedding-images", type=int, default=16, help="images per set in the embedding view"
    )
    parser.add_argument("--embedding-crop", type=int, default=128, help="central crop side")
    parser.add_argument("--tile", type=int, default=None, help="tile size (pixels) for big images")
    parser.add_argument("--tile-overlap", type=int, default=32, help="overlap between tiles")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser


class ExampleKeeper:
    """An ``on_image`` callback keeping the first ``per_set`` images of each set with PSNRs."""

    def __init__(self, per_set: int, protocol: Any) -> None:
        self.per_set = per_set
        self.protocol = protocol
        self.examples: list[tuple[str, Tensor, Tensor, Tensor, float, float]] = []
        self.counts: dict[str, int] = {}

    def __call__(self, label: str, item: dict[str, Any], restored: Tensor) -> None:
        from baryir.metrics import psnr_ssim

        if self.counts.get(label, 0) >= self.per_set:
            return
        self.counts[label] = self.counts.get(label, 0) + 1
        degraded, target = item["input"], item["target"]
        self.examples.append(
            (
                f"{label} {item.get('name', '')}".strip(),
                degraded,
                restored,
                target,
                psnr_ssim(degraded, target, self.protocol)[0],
                psnr_ssim(restored, target, self.protocol)[0],
            )
        )


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from baryir.commands.loading import load_model
    from baryir.evaluation.embedding import (
        collect_embeddings,
        plot_embeddings,
        separation_scores,
    )
    from baryir.evaluation.report import (
        describe_protocol,
        format_table,
        save_comparison_grid,
        write_tables,
    )
    from baryir.evaluation.runner import evaluate, resolve_datasets
    from baryir.metrics import EvalProtocol

    try:
        datasets = resolve_datasets(args.sets, root=args.root, seed=args.seed)
        model = load_model(args.ckpt, args.model)[0].to(args.device)
    except (OSError, ValueError) as error:
        print(f"baryir compare: error: {error}", file=sys.stderr)
        return 2
    out_dir = Path(args.output)
    protocol = EvalProtocol()
    keeper = ExampleKeeper(args.images_per_set, protocol)
    results = evaluate(
        model,
        datasets,
        protocol=protocol,
        max_images=args.max_images,
        tile=args.tile,
        tile_overlap=args.tile_overlap,
        on_image=keeper,
    )
    print(f"\nResults ({describe_protocol(protocol)}):\n{format_table(results)}\n")
    write_tables(results, out_dir)
    grid = save_comparison_grid(keeper.examples, out_dir / "comparison.png")
    print(f"wrote {grid}")
    if not getattr(model, "has_barycenter", False):
        print(f"no embedding view: {type(model).__name__} has no barycenter")
        return 0
    if len(datasets) < 2:
        print("no embedding view: it needs at least two sets (degradation types)")
        return 0
    embeddings = collect_embeddings(
        model, datasets, max_images=args.embedding_images, crop=args.embedding_crop
    )
    scores = separation_scores(embeddings)
    picture = plot_embeddings(embeddings, out_dir / "embedding.png", scores)
    print(f"Separation of degradation types ({len(embeddings.labels)} images, higher = separated):")
    for space, values in scores.items():
        print(
            f"  {space:<10}  silhouette {values['silhouette']:+.3f}  "
            f"nearest-centroid accuracy {values['centroid_accuracy']:.3f} "
            f"(chance {1 / len(set(embeddings.labels)):.3f})"
        )
    print(f"wrote {picture}")
    return 0
