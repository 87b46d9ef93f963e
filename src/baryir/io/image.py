"""Read, convert and write images safely.

``read_image`` always returns a ``(3, H, W)`` float32 tensor in ``[0, 1]``:

- EXIF orientation is applied.
- Grayscale (``1``, ``L``, ``I;16``, ``I``, ``F``) is replicated to three channels.
- Palette, CMYK, YCbCr, LAB, HSV are converted to RGB by Pillow.
- Alpha (``RGBA``, ``LA``, ``PA``) is dropped, not composited: the colour values stored under
  transparent pixels are kept as they are (the same as ``cv2.imread(..., IMREAD_COLOR)``).
- 16-bit data keeps its precision (divided by 65535). Pillow decodes 16-bit *colour* PNG/TIFF
  to 8 bits only, so those files are decoded with OpenCV (a dependency of albumentations).
- ``I`` (32-bit integer) data is clipped to ``[0, 65535]`` and ``F`` (float) data to ``[0, 1]``.

Anything unreadable raises :class:`ImageReadError` with a one-line message naming the file.
Note that Pillow's global ``ImageFile.LOAD_TRUNCATED_IMAGES`` is respected: if some other code
sets it to ``True``, truncated files are padded by Pillow instead of being refused.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from baryir.io.atomic import atomic_path

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_PIXELS",
    "ImageInfo",
    "ImageReadError",
    "list_images",
    "read_image",
    "read_image_info",
    "write_image",
]

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""File suffixes (lower case) that :func:`list_images` picks up."""

MAX_IMAGE_PIXELS = 178_956_970
"""Largest accepted ``width * height`` (twice Pillow's default warning limit, about 13k x 13k)."""

_ORIENTATION_TAG = 0x0112
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


class ImageReadError(ValueError):
    """An image file is missing, unreadable, corrupt, truncated or too large."""


class ImageInfo(NamedTuple):
    """What the header of an image file declares (nothing is decoded)."""

    width: int
    height: int
    mode: str
    bit_depth: int
    format: str | None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImageReadError(f"cannot read image {path}: file not found")
    if path.is_dir():
        raise ImageReadError(f"cannot read image {path}: it is a directory")
    if path.stat().st_size == 0:
        raise ImageReadError(f"cannot read image {path}: file is empty")


def _open(path: Path, max_pixels: int | None) -> Image.Image:
    """Open the header only, refusing images larger than ``max_pixels``."""
    _check_file(path)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its global limit; our own limit below decides instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except PermissionError:
        raise ImageReadError(f"cannot read image {path}: permission denied") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"cannot read image {path}: not a recognised image format") from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"cannot read image {path}: too large ({error})") from None
    except _DECODE_ERRORS as error:
        raise ImageReadError(f"cannot read image {path}: {error}") from None
    width, height = image.size
    if width == 0 or height == 0:
        image.close()
        raise ImageReadError(f"cannot read image {path}: zero size {width}x{height}")
    if max_pixels is not None and width * height > max_pixels:
        image.close()
        raise ImageReadError(
            f"cannot read image {path}: {width}x{height} = {width * height} pixels exceeds the "
            f"limit of {max_pixels} (decompression bomb guard; pass max_pixels to raise it)"
        )
    return image


def _raw_bits(image: Image.Image) -> int:
    """Bits per sample that the file stores (16 for ``RGB;16B`` and similar raw modes)."""
    for tile in image.tile:
        rawmode = tile.args[0] if isinstance(tile.args, tuple) else tile.args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return 16
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return 16
    if image.mode in ("I", "F"):
        return 32
    return 1 if image.mode == "1" else 8


def read_image_info(path: str | Path) -> ImageInfo:
    """Return the size, Pillow mode, bit depth and format of an image without decoding it.

    The size is as stored, before any EXIF rotation.
    """
    path = Path(path)
    with _open(path, max_pixels=None) as image:
        return ImageInfo(image.width, image.height, image.mode, _raw_bits(image), image.format)


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to ``(H, W, C)``, as ``ImageOps.exif_transpose`` does."""
    transforms = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),
        8: lambda a: np.rot90(a, 1),
    }
    return transforms[orientation](array) if orientation in transforms else array


def _decode_16bit_colour(path: Path, orientation: int) -> np.ndarray:
    import cv2  # local: only 16-bit colour files need OpenCV

    data = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if data is None or data.ndim != 3 or data.dtype != np.uint16:
        raise ImageReadError(f"cannot read image {path}: OpenCV could not decode 16-bit colour")
    rgb = data[..., 2::-1]  # BGR(A) -> RGB, alpha dropped
    return _orient(rgb, orientation).astype(np.float32) / 65535.0


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert a loaded Pillow image to an ``(H, W, 3)`` float32 array in ``[0, 1]``."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        gray = np.clip(np.asarray(image, dtype=np.float32), 0, 65535) / 65535.0
    elif mode == "F":
        gray = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    else:
        rgb = image if mode == "RGB" else image.convert("RGB")
        return np.asarray(rgb, dtype=np.float32) / 255.0
    return np.repeat(gray[..., None], 3, axis=-1)


def read_image(path: str | Path, max_pixels: int | None = MAX_IMAGE_PIXELS) -> Tensor:
    """Read an image file as a ``(3, H, W)`` float32 tensor in ``[0, 1]``.

    Args:
        path: image file (any format Pillow reads; see the module docstring for conversions).
        max_pixels: refuse images whose header declares more pixels (decompression bomb
            guard, checked before decoding); ``None`` disables the check.

    Raises:
        ImageReadError: missing file, directory, empty file, not an image, truncated or corrupt
            data, zero size, permission denied, or more than ``max_pixels`` pixels.

    Example:
        >>> image = read_image("kodim01.png")  # doctest: +SKIP
        >>> image.shape, image.dtype
        (torch.Size([3, 512, 768]), torch.float32)
    """
    path = Path(path)
    with _open(path, max_pixels) as image:
        try:
            bits = _raw_bits(image)
            orientation = image.getexif().get(_ORIENTATION_TAG, 1)
            image.load()  # full decode: truncated files fail here, not later
            if bits == 16 and image.mode in ("RGB", "RGBA"):
                array = _decode_16bit_colour(path, orientation)
            else:
                array = _to_rgb_array(ImageOps.exif_transpose(image))
        except ImageReadError:
            raise
        except _DECODE_ERRORS as error:
            raise ImageReadError(
                f"cannot read image {path}: truncated or corrupt ({error})"
            ) from None
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).contiguous()


def list_images(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Return the image files in ``folder`` (suffix in :data:`IMAGE_EXTENSIONS`), sorted by path.

    Hidden files (names starting with ``.``, e.g. macOS ``._x.png``) are skipped.

    Raises:
        FileNotFoundError: ``folder`` does not exist or is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in candidates
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    )


def _quantize(image: Tensor, bit_depth: int) -> np.ndarray:
    levels = 2**bit_depth - 1
    dtype = torch.uint8 if bit_depth == 8 else torch.int32
    array = (image.detach().to("cpu", torch.float64).clamp(0, 1) * levels).round().to(dtype)
    return array.numpy().astype(np.uint8 if bit_depth == 8 else np.uint16)


def write_image(
    path: str | Path, image: Tensor, bit_depth: int = 8, alpha: Tensor | None = None
) -> None:
    """Write a ``(3, H, W)`` or ``(1, H, W)`` float tensor in ``[0, 1]`` to an image file.

    Values are clamped to ``[0, 1]`` and rounded to the nearest of ``2**bit_depth`` levels. The
    format follows the suffix (Pillow); 16-bit output must be ``.png``. With ``alpha``
    (``(1, H, W)`` in ``[0, 1]``) the file is an RGBA or gray+alpha PNG (16-bit gray+alpha:
    RGBA, the gray repeated). The write is atomic (temporary file in the same folder, then
    ``os.replace``) and parent folders are created.

    Raises:
        ValueError: wrong shape, non-float or NaN values, bad ``bit_depth`` or suffix.
    """
    path = Path(path)
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(
            f"write_image({path}): expected (3, H, W) or (1, H, W), got {tuple(image.shape)}"
        )
    if not image.is_floating_point():
        raise ValueError(
            f"write_image({path}): expected a float tensor in [0, 1], got {image.dtype}"
        )
    if torch.isnan(image).any():
        raise ValueError(f"write_image({path}): image contains NaN")
    if bit_depth not in (8, 16):
        raise ValueError(f"write_image({path}): bit_depth must be 8 or 16, got {bit_depth}")
    suffix = path.suffix.lower()
    image_format = Image.registered_extensions().get(suffix)
    if image_format is None:
        raise ValueError(f"write_image({path}): unknown image suffix {suffix!r}")
    if bit_depth == 16 and suffix != ".png":
        raise ValueError(f"write_image({path}): 16-bit output must be .png")
    if alpha is not None:
        if suffix != ".png" or alpha.shape != (1, *image.shape[1:]):
            raise ValueError(f"write_image({path}): alpha must be (1, H, W) and the file .png")
        image = torch.cat([image, alpha.to(image)])

    array = _quantize(image, bit_depth).transpose(1, 2, 0)
    with atomic_path(path) as tmp:
        if bit_depth == 16 and array.shape[-1] > 1:
            import cv2  # local: Pillow cannot write 16-bit colour or alpha

            bgr = {2: [0, 0, 0, 1], 3: [2, 1, 0], 4: [2, 1, 0, 3]}[array.shape[-1]]
            ok, encoded = cv2.imencode(".png", np.ascontiguousarray(array[..., bgr]))
            if not ok:
                raise ValueError(f"write_image({path}): OpenCV could not encode 16-bit PNG")
            tmp.write_bytes(encoded.tobytes())
        else:
            Image.fromarray(
                np.ascontiguousarray(array[..., 0] if array.shape[-1] == 1 else array)
            ).save(tmp, format=image_format)
    log.debug("wrote %s (%d-bit)", path, bit_depth)
