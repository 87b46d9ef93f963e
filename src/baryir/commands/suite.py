"""``baryir suite --config SUITE --ckpt CKPT``: run an evaluation suite without a Trainer.

Scores every row of the suite (see :mod:`baryir.data.suites`) with
:func:`baryir.evaluation.runner.evaluate`, prints one table (PSNR, SSIM, input PSNR, input SSIM,
``worse``, ``psnr_min``, average row), writes ``results.csv``, ``results.md`` and
``per_image.csv`` (each image's input and restored PSNR) into ``--output`` (default: beside the
checkpoint, ``<ckpt stem>-suite-<name>/``) and restores the suite's real photos (no ground
truth, not scored) into ``--output/real/<folder>/<stem>.png`` (written atomically; with
``--skip-existing`` a photo whose output is there is kept, not restored again).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt

from baryir.commands import DEFAULT_DEVICE, check_device, check_output_folder
from baryir.inference.files import restore_file

log = logging.getLogger(__name__)


def default_output(ckpt: str | Path, suite_name: str) -> Path:
    """``<checkpoint folder>/<checkpoint stem>-suite-<name>``."""
    ckpt = Path(ckpt).resolve()
    return ckpt.parent / f"{ckpt.stem}-suite-{suite_name}"


def restore_real(
    model: torch.nn.Module,
    folders: Sequence[Path],
    out_dir: Path,
    max_images: int | None,
    tile: int | None,
    tile_overlap: int,
    device: str,
    skip_existing: bool = False,
) -> int:
    """Restore the images of each real-photo folder into ``out_dir/<folder name>/``; count
    (with ``skip_existing``, outputs already there are kept and counted)."""
    from baryir.io.image import ImageReadError, list_images

    count = 0
    for folder in folders:
        for path in list_images(folder)[:max_images]:
            target = out_dir / folder.name / f"{path.stem}.png"
            if skip_existing and target.exists():
                count += 1
                continue
            try:
                restore_file(
                    model,
                    path,
                    target,
                    tile,
                    tile_overlap,
                    device,
                )
            except ImageReadError as error:
                log.warning("skipped: %s", error)
                continue
            count += 1
    return count


def run(
    *,
    config: str,
    ckpt: Path,
    output: Path | None = None,
    model: str | None = None,
    root: Path | None = None,
    max_images: PositiveInt | None = None,
    tile: PositiveInt | None = None,
    tile_overlap: NonNegativeInt = 32,
    no_real: bool = False,
    device: str = DEFAULT_DEVICE,
    skip_existing: bool = False,
) -> int:
    """Score a network on every row of an evaluation suite, without a Trainer.

    Args:
        config: the suite: a library suite's name (do-no-harm, ood, standard, unseen, also
            written suite:NAME) or a suite YAML file (a .yaml path, or any path with a /).
        ckpt: weights: Lightning .ckpt, exported .safetensors or released .pth.
        output: folder for the tables and restored photos (default: beside the checkpoint,
            <ckpt stem>-suite-<name>).
        model: registry name if the weights carry none.
        root: data root (default: the suite's, else ``$BARYIR_DATA``).
        max_images: images per row (smoke runs).
        tile: tile size (pixels) for big images.
        tile_overlap: overlap between tiles (pixels).
        no_real: skip the real photos.
        device: where the network runs.
        skip_existing: keep the restored real photos already in --output (complete: writes
            are atomic) and restore only the missing ones.
    """
    from baryir.data.suites import load_suite
    from baryir.evaluation.report import (
        describe_protocol,
        format_table,
        write_image_scores,
        write_tables,
    )
    from baryir.evaluation.runner import ImageScores, evaluate
    from baryir.models import load_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    check_device(device)
    suite = load_suite(str(config))
    datasets = suite.build(root=root, max_images=max_images)
    real = [] if no_real else suite.real_folders(root)
    network = load_model(ckpt, model).to(device)
    out_dir = output or default_output(ckpt, suite.name)
    check_output_folder(out_dir)
    scores = ImageScores()
    results = evaluate(
        network,
        datasets,
        protocol=suite.protocol,
        tile=tile,
        tile_overlap=tile_overlap,
        on_image=scores,
    )
    if results:
        table = format_table(results)
        print(f"\nSuite {suite.name} ({describe_protocol(suite.protocol)}):\n{table}\n", flush=True)
        csv_path, md_path = write_tables(results, out_dir)
        per_image = write_image_scores(scores.rows, out_dir)
        print(f"wrote {csv_path}, {md_path}, {per_image}")
    if real:
        real_dir = out_dir / "real"
        count = restore_real(
            network, real, real_dir, max_images, tile, tile_overlap, device, skip_existing
        )
        print(f"restored {count} real photos (no ground truth, not scored) into {real_dir}")
    return 0
