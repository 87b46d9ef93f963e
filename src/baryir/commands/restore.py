"""``baryir restore INPUT... --ckpt CKPT --output DIR``: restore images with a trained network.

Inputs are files, folders (their images, sorted) or glob patterns. Each output is a PNG named
after its input's stem in ``--output``. Every input is checked before the first image is
restored, so a bad path fails at once. The network always sees RGB in ``[0, 1]``
(:func:`baryir.io.image.read_image`: EXIF orientation applied, so outputs are upright); what is
written mirrors the input:

- Colour (RGB, palette, CMYK, ...) -> RGB PNG.
- Grayscale (``1``, ``L``, ``I;16``, ``I``, ``F``) -> grayscale PNG holding the luminance of the
  restored RGB, ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601 full range, what Pillow's
  ``convert("L")`` computes).
- With alpha (``RGBA``, ``LA``, ``PA``, a ``transparency`` entry) -> the same plus the input's
  alpha channel, unchanged (:func:`baryir.io.alpha.read_alpha`): RGBA or gray+alpha PNG.

Bit depth: an input storing more than 8 bits per sample (16-bit PNG/TIFF, 32-bit integer or
float grayscale) gives a 16-bit PNG; everything else (8-bit, 1-bit, palette, JPEG) an 8-bit PNG.
Values are rounded to the nearest level; writes are atomic.
"""

from __future__ import annotations

import glob
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from jsonargparse.typing import NonNegativeInt, PositiveInt
from PIL import Image
from torch import Tensor, nn
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from baryir.commands import DEFAULT_DEVICE, check_device, check_output_folder
from baryir.inference.precision import Precision
from baryir.io.atomic import atomic_path
from baryir.io.image import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    list_images,
    read_image,
    read_image_info,
    write_image,
)
from baryir.models import load_model

log = logging.getLogger(__name__)

GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
"""Pillow modes written back as grayscale."""

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""BT.601 full-range luminance weights used for grayscale outputs."""


def luminance(image: Tensor) -> Tensor:
    """BT.601 luminance ``(1, H, W)`` of an RGB image ``(3, H, W)`` in ``[0, 1]``."""
    weights = image.new_tensor(LUMA_WEIGHTS).view(3, 1, 1)
    return (image * weights).sum(dim=0, keepdim=True)


def _quantize(image: Tensor, bit_depth: int) -> np.ndarray:
    """``(C, H, W)`` in ``[0, 1]`` -> ``(H, W, C)`` uint8/uint16, rounded to nearest."""
    levels = 2**bit_depth - 1
    array = (image.detach().float().clamp(0, 1) * levels).round().permute(1, 2, 0).numpy()
    return array.astype(np.uint8 if bit_depth == 8 else np.uint16)


def write_with_alpha(path: Path, image: Tensor, alpha: Tensor, bit_depth: int) -> None:
    """Write ``(3 or 1, H, W)`` plus alpha ``(1, H, W)`` as an RGBA or gray+alpha PNG (atomic)."""
    array = _quantize(torch.cat([image, alpha.to(image)]), bit_depth)
    with atomic_path(path) as tmp:
        if bit_depth == 16:
            import cv2  # local: Pillow cannot write 16-bit RGBA

            channels = [2, 1, 0, 3] if array.shape[-1] == 4 else [0, 0, 0, 1]
            ok, encoded = cv2.imencode(".png", np.ascontiguousarray(array[..., channels]))
            if not ok:
                raise ValueError(f"{path}: OpenCV could not encode a 16-bit PNG with alpha")
            tmp.write_bytes(encoded.tobytes())
        else:
            Image.fromarray(np.ascontiguousarray(array)).save(tmp, format="PNG")


def restore_file(
    model: nn.Module,
    path: Path,
    target: Path,
    tile: int | None = None,
    tile_overlap: int = 32,
    device: torch.device | str | None = None,
    precision: Precision = "fp32",
) -> tuple[int, int]:
    """Restore the image file ``path`` into the PNG ``target`` (see the module docstring).

    Returns:
        ``(width, height)`` of the image. Raises :class:`ImageReadError` if it cannot be read.
    """
    from baryir.inference import restore
    from baryir.io.alpha import read_alpha

    info = read_image_info(path)
    image = read_image(path)
    alpha = read_alpha(path)
    bit_depth = 16 if info.bit_depth > 8 else 8
    restored = restore(
        model, image, tile=tile, tile_overlap=tile_overlap, device=device, precision=precision
    ).cpu()
    del image
    if info.mode in GRAY_MODES:
        restored = luminance(restored)
    if alpha is not None:
        write_with_alpha(target, restored, alpha, bit_depth)
    else:
        write_image(target, restored, bit_depth=bit_depth)
    return restored.shape[-1], restored.shape[-2]


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
    precision: Precision = "fp32",
    overwrite: bool = False,
) -> int:
    """Restore images with a trained network; 1 when an image was skipped, else 0.

    Each output is a PNG named after its input's stem in ``output`` that mirrors the input's
    colour type, alpha and bit depth (see :mod:`baryir.commands.restore`).

    Args:
        inputs: image files, folders (their images, sorted) or glob patterns.
        ckpt: weights: Lightning .ckpt, exported .safetensors or released .pth.
        output: folder for the restored PNGs.
        model: registry name if the weights carry none.
        tile: tile size (pixels) for big images.
        tile_overlap: overlap between tiles (pixels).
        device: where the network runs.
        precision: fp32, or bf16 autocast on CPUs with AMX / AVX-512 BF16 and on recent
            GPUs (elsewhere a one-line warning and fp32); bf16 outputs measured at 45+ dB
            PSNR against fp32 (benchmarks/bf16_agreement.py).
        overwrite: replace existing outputs.
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    check_output_folder(output)
    check_device(device)
    paths = expand_inputs(inputs)
    targets = [output / f"{p.stem}.png" for p in paths]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{existing[0]} exists ({len(existing)} outputs would be replaced); "
            "pass --overwrite or choose another --output"
        )
    if tile is not None and tile <= tile_overlap:
        raise ValueError(f"--tile {tile} must be larger than --tile-overlap {tile_overlap}")
    network = load_model(ckpt, model).to(device)
    failed = 0
    progress = tqdm(
        list(zip(paths, targets, strict=True)), desc="restore", unit="image", disable=None
    )
    for path, target in progress:
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
    print(f"restored {len(paths) - failed} of {len(paths)} images into {output}")
    return 1 if failed else 0
