"""``baryir compare --ckpt CKPT... --sets SPEC... --output DIR``: what networks do, side by side.

Writes into ``--output`` (with several ``--ckpt``, of any architectures: one table of every
network on every set, printed and written as ``results.csv``/``results.md``; otherwise):

- ``comparison.png``: rows of degraded | restored | ground truth with PSNR captions, the first
  ``--images-per-set`` images of each set (scored with :func:`baryir.evaluation.runner.evaluate`,
  whose table is printed and written as ``results.csv``/``results.md``);
- ``embedding.png`` (networks with a barycenter only): 2-D PCA of the spatially pooled
  barycenter ``b`` (left) and residual ``r`` (right) of each set's inputs, coloured by set, and
  the separation scores of :mod:`baryir.evaluation.embedding` (printed too). The paper expects
  ``b`` to mix the degradation types and ``r`` to separate them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jsonargparse.typing import NonNegativeInt, PositiveInt

from baryir.commands import DEFAULT_DEVICE, check_device, check_output_folder

log = logging.getLogger(__name__)


def run(
    *,
    ckpt: list[Path],
    sets: list[str],
    output: Path,
    model: str | None = None,
    root: Path | None = None,
    seed: int = 0,
    images_per_set: PositiveInt = 2,
    max_images: PositiveInt | None = None,
    embedding_images: PositiveInt = 16,
    embedding_crop: PositiveInt = 128,
    tile: PositiveInt | None = None,
    tile_overlap: NonNegativeInt = 32,
    device: str = DEFAULT_DEVICE,
) -> int:
    """Pictures of what a network does: a comparison grid and the embedding view of b and r.

    Args:
        ckpt: weights: Lightning .ckpt, exported .safetensors or released .pth/.ckpt; with
            several (any architectures), one table of every network on every set instead.
        sets: rows in the spec grammar of baryir.specs: test sets (CBSD68:25 Rain100H ./pairs)
            or suites (suite:ood, a suite .yaml: scored by the suite's protocol).
        output: folder for the pictures and tables.
        model: registry name if the weights carry none.
        root: data root (default: ``$BARYIR_DATA``).
        seed: seed of the synthetic degradations.
        images_per_set: rows per set in the grid.
        max_images: images scored per set.
        embedding_images: images per set in the embedding view.
        embedding_crop: central crop side of the embedding view (pixels).
        tile: tile size (pixels) for big images.
        tile_overlap: overlap between tiles (pixels).
        device: where the network runs.
    """
    from baryir.evaluation.embedding import (
        collect_embeddings,
        plot_embeddings,
        separation_scores,
    )
    from baryir.evaluation.report import (
        ExampleKeeper,
        describe_protocol,
        format_table,
        save_comparison_grid,
        write_tables,
    )
    from baryir.evaluation.runner import evaluate, resolve_datasets
    from baryir.metrics import EvalProtocol
    from baryir.models import load_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    check_device(device)
    check_output_folder(output)
    datasets = resolve_datasets(sets, root=root, seed=seed)
    protocol = EvalProtocol()
    if len(ckpt) > 1:
        networks = {_label(path, net := load_model(path, model)): net for path in ckpt}
        if len(networks) < len(ckpt):
            raise ValueError(f"compare: two --ckpt files share a name and network: {ckpt}")
        results = {
            label: evaluate(
                net.to(device), datasets, protocol, max_images, tile=tile, tile_overlap=tile_overlap
            )
            for label, net in networks.items()
        }
        table = side_by_side(results)
        columns = [f"{label} {metric}" for label in results for metric in ("psnr", "ssim")]
        print(f"\nResults ({describe_protocol(protocol)}):\n{format_table(table, columns)}\n")
        write_tables(table, output, columns)
        return 0
    network = load_model(ckpt[0], model).to(device)
    keeper = ExampleKeeper(images_per_set)
    results = evaluate(
        network,
        datasets,
        protocol=protocol,
        max_images=max_images,
        tile=tile,
        tile_overlap=tile_overlap,
        on_image=keeper,
    )
    row_protocols = [getattr(dataset, "protocol", None) or protocol for dataset in datasets]
    used = dict.fromkeys(describe_protocol(row_protocol) for row_protocol in row_protocols)
    print(f"\nResults ({'; '.join(used)}):\n{format_table(results)}\n")
    write_tables(results, output)
    grid = save_comparison_grid(keeper.examples, output / "comparison.png")
    print(f"wrote {grid}")
    if not getattr(network, "has_barycenter", False):
        print(f"no embedding view: {type(network).__name__} has no barycenter")
        return 0
    if len(datasets) < 2:
        print("no embedding view: it needs at least two sets (degradation types)")
        return 0
    embeddings = collect_embeddings(
        network, datasets, max_images=embedding_images, crop=embedding_crop
    )
    scores = separation_scores(embeddings)
    picture = plot_embeddings(embeddings, output / "embedding.png", scores)
    print(f"Separation of degradation types ({len(embeddings.labels)} images, higher = separated):")
    for space, values in scores.items():
        print(
            f"  {space:<10}  silhouette {values['silhouette']:+.3f}  "
            f"nearest-centroid accuracy {values['centroid_accuracy']:.3f} "
            f"(chance {1 / len(set(embeddings.labels)):.3f})"
        )
    print(f"wrote {picture}")
    return 0


def _label(path: Path, network: object) -> str:
    """``<file stem> (<preset>)``: a column of the side-by-side table."""
    return f"{path.stem} ({getattr(network, 'preset_name', type(network).__name__)})"


def side_by_side(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """``{network: {set: scores}}`` -> ``{set: {"<network> psnr": .., "<network> ssim": ..}}``."""
    table: dict[str, dict[str, float]] = {}
    for label, rows in results.items():
        for row, scores in rows.items():
            table.setdefault(row, {}).update(
                {f"{label} psnr": scores["psnr"], f"{label} ssim": scores["ssim"]}
            )
    return table
