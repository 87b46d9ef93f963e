"""Read the alpha channel of an image, aligned with :func:`baryir.io.image.read_image`.

``read_image`` drops alpha; :func:`read_alpha` returns it separately, with the same EXIF
orientation applied, so a restored RGB image can get its transparency back. Alpha comes from
``RGBA``, ``LA``, ``PA`` and ``La`` images and from palette/gray/RGB images with a
``transparency`` entry. 16-bit colour files (Pillow decodes them to 8 bits) are decoded with
OpenCV to keep a 16-bit alpha at full precision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor

from baryir.io.image import ImageReadError, _orient, read_image_info

__all__ = ["read_alpha"]

_ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
_ORIENTATION_TAG = 0x0112


def _alpha_16bit(path: Path, orientation: int) -> np.ndarray | None:
    import cv2  # local: only 16-bit colour files need OpenCV

    data = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if data is None or data.ndim != 3 or data.shape[-1] != 4:
        return None
    alpha = _orient(data[..., 3:], orientation)[..., 0]  # the same transform read_image applies
    return np.ascontiguousarray(alpha).astype(np.float32) / 65535.0


def read_alpha(path: str | Path) -> Tensor | None:
    """The alpha channel of ``path`` as ``(1, H, W)`` float32 in ``[0, 1]``, or ``None``.

    ``H, W`` match ``read_image(path)`` (EXIF orientation applied).

    Raises:
        ImageReadError: the file cannot be read.
    """
    path = Path(path)
    info = read_image_info(path)
    try:
        with Image.open(path) as image:
            has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
            if not has_alpha:
                return None
            orientation = image.getexif().get(_ORIENTATION_TAG, 1)
            if info.bit_depth == 16 and image.mode == "RGBA":
                array = _alpha_16bit(path, orientation)
                if array is not None:
                    return torch.from_numpy(array)[None]
            image.load()
            oriented = ImageOps.exif_transpose(image)
            alpha = oriented.convert("RGBA").getchannel("A")
            array = np.asarray(alpha, dtype=np.float32) / 255.0
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageReadError(f"cannot read the alpha channel of {path}: {error}") from None
    return torch.from_numpy(np.ascontiguousarray(array))[None]
