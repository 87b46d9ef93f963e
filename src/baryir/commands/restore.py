"""``baryir restore INPUT... --ckpt CKPT --output DIR``: restore images with a trained network.

Inputs are files, folders (their images, sorted) or glob patterns. Each output is a PNG named
after its input's stem in ``--output``; 16-bit inputs give 16-bit PNGs, all others 8-bit.
Every input is checked before the first image is restored, so a bad path fails at once.
"""

from __future__ import annotations

import argparse
import glob
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from baryir.io.image import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    list_images,
    read_image,
    read_image_info,
    write_image,
)

log = logging.getLogger(__name__)


def expand_inputs(inputs: Sequence[str]) -> list[Path]:
    """Turn files, folders and glob patterns into a sorted list of image paths (no duplicates)."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            images = list_images(path)
            if not images:
                raise FileNotFoundError(
                    f"{path}: folder holds no images ({', '.join(IMAGE_EXTENSIONS)})"
                )
            found += images
        elif path.is_file():
            found.append(path)
        elif glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item) if Path(p).is_file())
            if not matches:
                raise FileNotFoundError(f"{item}: pattern matches no file")
            found += matches
        else:
            raise FileNotFoundError(f"{item}: no such file or folder")
    unique = list(dict.fromkeys(found))
    stems: dict[str, Path] = {}
    for path in unique:
        if path.stem in stems:
            raise ValueError(
                f"{path} and {stems[path.stem]} would both be written as {path.stem}.png; "
                "restore them into different --output folders"
            )
        stems[path.stem] = path
    return unique


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baryir restore", description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="image files, folders or glob patterns")
    parser.add_argument("--ckpt", required=True, help="Lightning .ckpt or exported .safetensors")
    parser.add_argument("--output", required=True, help="folder for the restored PNGs")
    parser.add_argument("--model", default=None, help="registry name if the weights carry none")
    parser.add_argument("--tile", type=int, default=None, help="tile size (pixels) for big images")
    parser.add_argument("--tile-overlap", type=int, default=32, help="overlap between tiles")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from baryir.commands.loading import load_model
    from baryir.inference import restore

    try:
        paths = expand_inputs(args.inputs)
        out_dir = Path(args.output)
        targets = [out_dir / f"{p.stem}.png" for p in paths]
        existing = [t for t in targets if t.exists()]
        if existing and not args.overwrite:
            raise FileExistsError(
                f"{existing[0]} exists ({len(existing)} outputs would be replaced); "
                "pass --overwrite or choose another --output"
            )
        if args.tile is not None and args.tile <= args.tile_overlap:
            raise ValueError(
                f"--tile {args.tile} must be larger than --tile-overlap {args.tile_overlap}"
            )
        model = load_model(args.ckpt, args.model)[0].to(args.device)
    except (OSError, ValueError) as error:
        print(f"baryir restore: error: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path, target in zip(paths, targets, strict=False):
        start = time.perf_counter()
        try:
            image = read_image(path)
            bit_depth = 16 if read_image_info(path).bit_depth > 8 else 8
        except ImageReadError as error:
            print(f"baryir restore: skipped: {error}", file=sys.stderr)
            failed += 1
            continue
        restored = restore(
            model,
            image,
            tile=args.tile,
            tile_overlap=args.tile_overlap,
            device=torch.device(args.device),
        )
        write_image(target, restored.cpu(), bit_depth=bit_depth)
        log.info(
            "%s -> %s (%dx%d, %.2f s)",
            path,
            target,
            image.shape[-1],
            image.shape[-2],
            time.perf_counter() - start,
        )
    print(f"restored {len(paths) - failed} of {len(paths)} images into {out_dir}")
    return 1 if failed else 0
