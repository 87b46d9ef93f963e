"""``baryir restore INPUT... --ckpt CKPT --output DIR``: restore images with a trained network.

Inputs are files, folders (their images, sorted) or glob patterns. Each output is a PNG named
after its input's stem in ``--output`` that mirrors the input's colour type, alpha and bit depth
(:func:`baryir.inference.files.restore_file`). Every input is checked before the first image is
restored, so a bad path fails at once.

Folder jobs resume: outputs are written atomically, so one that is present is complete, and
``--skip-existing`` restores only the inputs whose output is missing. SIGTERM or Ctrl-C stops
after the image in hand is written, says how many outputs are done and prints the command that
resumes (exit status 128 + the signal's number); a second one stops at once.
"""

from __future__ import annotations

import glob
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from baryir.commands import DEFAULT_DEVICE, check_device, check_output_folder
from baryir.commands.interrupt import StopRequest
from baryir.inference import Precision, describe_precision, resolve_precision
from baryir.inference.files import luminance, restore_file
from baryir.io.image import IMAGE_EXTENSIONS, ImageReadError, list_images
from baryir.models import load_model

__all__ = ["expand_inputs", "luminance", "restore_file", "run"]

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


def run(
    inputs: list[str],
    *,
    ckpt: Path,
    output: Path,
    model: str | None = None,
    tile: PositiveInt | None = None,
    tile_overlap: NonNegativeInt = 32,
    device: str = DEFAULT_DEVICE,
    precision: Precision = "auto",
    overwrite: bool = False,
    skip_existing: bool = False,
) -> int:
    """Restore images with a trained network; 1 when an image was skipped, else 0.

    Each output is a PNG named after its input's stem in ``output`` that mirrors the input's
    colour type, alpha and bit depth (see :mod:`baryir.inference.files`).

    Args:
        inputs: image files, folders (their images, sorted) or glob patterns.
        ckpt: weights: Lightning .ckpt, exported .safetensors or released .pth.
        output: folder for the restored PNGs.
        model: registry name if the weights carry none.
        tile: tile size (pixels) for big images.
        tile_overlap: overlap between tiles (pixels).
        device: where the network runs.
        precision: auto (bf16 where the CPU has AMX-BF16 / AVX-512 BF16 or the GPU supports
            bf16, else fp32), fp32, or bf16 (elsewhere a one-line warning and fp32); bf16
            outputs measured at 45+ dB PSNR against fp32 (benchmarks/bf16_agreement.py).
        overwrite: replace existing outputs.
        skip_existing: keep existing outputs (complete: writes are atomic) and restore only
            the inputs whose output is missing (how an interrupted folder job resumes).
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    check_output_folder(output)
    check_device(device)
    paths = expand_inputs(inputs)
    targets = [output / f"{p.stem}.png" for p in paths]
    if overwrite and skip_existing:
        raise ValueError("--overwrite and --skip-existing exclude each other: choose one")
    existing = [t for t in targets if t.exists()]
    if existing and not (overwrite or skip_existing):
        raise FileExistsError(
            f"{existing[0]} exists ({len(existing)} outputs would be replaced); pass "
            "--skip-existing to restore only the missing ones, --overwrite to replace them, "
            "or choose another --output"
        )
    kept = len(existing) if skip_existing else 0
    if kept:
        print(f"--skip-existing: {kept} of {len(paths)} outputs are there already, kept")
    if tile is not None and tile <= tile_overlap:
        raise ValueError(f"--tile {tile} must be larger than --tile-overlap {tile_overlap}")
    network = load_model(ckpt, model).to(device)
    print(describe_precision(precision, device))
    precision = resolve_precision(precision, device)
    failed = restored = 0
    pairs = [(p, t) for p, t in zip(paths, targets, strict=True) if not (kept and t.exists())]
    progress = tqdm(pairs, desc="restore", unit="image", disable=None)
    stop = StopRequest()
    for path, target in stop.until_stopped(progress):
        start = time.perf_counter()
        try:
            width, height = restore_file(
                network, path, target, tile, tile_overlap, torch.device(device), precision
            )
        except ImageReadError as error:
            progress.write(f"baryir restore: skipped: {error}", file=sys.stderr)
            failed += 1
            continue
        except torch.OutOfMemoryError:
            progress.write(
                f"baryir restore: skipped: {path}: out of memory on {device} even with the "
                "smallest tiles; try --device cpu",
                file=sys.stderr,
            )
            failed += 1
            continue
        with logging_redirect_tqdm():
            log.info(
                "%s -> %s (%dx%d, %.2f s)",
                path,
                target,
                width,
                height,
                time.perf_counter() - start,
            )
        restored += 1
    if stop.signum is not None:
        resume = [*inputs, "--ckpt", str(ckpt), "--output", str(output)]
        for option, value in (("--model", model), ("--tile", tile)):
            resume += [option, str(value)] if value is not None else []
        resume += ["--tile-overlap", str(tile_overlap), "--device", device]
        resume += ["--precision", precision, "--skip-existing"]
        print(
            f"baryir restore: stopped by {stop.name}: {kept + restored} of {len(paths)} outputs "
            f"are in {output}; resume with:\n  {shlex.join(['baryir', 'restore', *resume])}",
            file=sys.stderr,
        )
        return stop.exit_status
    said = f" ({kept} were there already)" if kept else ""
    print(f"restored {restored} of {len(paths)} images into {output}{said}")
    return 1 if failed else 0
