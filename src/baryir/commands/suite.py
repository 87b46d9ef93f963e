"""``baryir suite --config SUITE.yaml --ckpt CKPT``: run an evaluation suite without a Trainer.

Scores every row of the suite (see :mod:`baryir.evaluation.suites`) with
:func:`baryir.evaluation.runner.evaluate`, prints one table (PSNR, SSIM, input PSNR, input SSIM,
average row), writes ``results.csv`` and ``results.md`` into ``--output`` (default: beside the
checkpoint, ``<ckpt stem>-suite-<name>/``) and restores the suite's real photos (no ground
truth, not scored) into ``--output/real/<folder>/<stem>.png``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baryir suite", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="suite YAML, e.g. configs/suites/ood.yaml")
    parser.add_argument("--ckpt", required=True, help="Lightning .ckpt or exported .safetensors")
    parser.add_argument("--output", default=None, help="folder for the tables and restored photos")
    parser.add_argument("--model", default=None, help="registry name if the weights carry none")
    parser.add_argument("--root", default=None, help="data root (default: the suite's, or shared)")
    parser.add_argument("--max-images", type=int, default=None, help="images per row (smoke runs)")
    parser.add_argument("--tile", type=int, default=None, help="tile size (pixels) for big images")
    parser.add_argument("--tile-overlap", type=int, default=32, help="overlap between tiles")
    parser.add_argument("--no-real", action="store_true", help="skip the real photos")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser


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
) -> int:
    """Restore the images of each real-photo folder into ``out_dir/<folder name>/``; count."""
    from baryir.commands.restore import restore_file
    from baryir.io.image import ImageReadError, list_images

    count = 0
    for folder in folders:
        for path in list_images(folder)[:max_images]:
            try:
                restore_file(
                    model,
                    path,
                    out_dir / folder.name / f"{path.stem}.png",
                    tile,
                    tile_overlap,
                    device,
                )
            except ImageReadError as error:
                log.warning("skipped: %s", error)
                continue
            count += 1
    return count


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from baryir.commands.loading import load_model
    from baryir.evaluation.report import describe_protocol, format_table, write_tables
    from baryir.evaluation.runner import evaluate
    from baryir.evaluation.suites import load_suite

    try:
        if args.max_images is not None and args.max_images < 1:
            raise ValueError(f"--max-images must be positive, got {args.max_images}")
        suite = load_suite(args.config)
        root = Path(args.root) if args.root else None
        datasets = suite.build(root=root, max_images=args.max_images)
        real = [] if args.no_real else suite.real_folders(root)
        model = load_model(args.ckpt, args.model)[0].to(args.device)
    except (OSError, ValueError) as error:
        print(f"baryir suite: error: {error}", file=sys.stderr)
        return 2
    out_dir = Path(args.output) if args.output else default_output(args.ckpt, suite.name)
    results = evaluate(
        model,
        datasets,
        protocol=suite.protocol,
        tile=args.tile,
        tile_overlap=args.tile_overlap,
    )
    if results:
        table = format_table(results)
        print(f"\nSuite {suite.name} ({describe_protocol(suite.protocol)}):\n{table}\n", flush=True)
        csv_path, md_path = write_tables(results, out_dir)
        print(f"wrote {csv_path}, {md_path}")
    if real:
        real_dir = out_dir / "real"
        count = restore_real(
            model,
            real,
            real_dir,
            args.max_images,
            args.tile,
            args.tile_overlap,
            args.device,
        )
        print(f"restored {count} real photos (no ground truth, not scored) into {real_dir}")
    return 0
