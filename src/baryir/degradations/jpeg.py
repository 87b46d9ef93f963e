"""JPEG compression artefacts (an unseen degradation in the paper's generalisation tests)."""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
import torch
from kornia.enhance import jpeg_codec_differentiable
from PIL import Image
from torch import Tensor

from baryir.degradations.base import Degradation, ParamRange, as_range, range_params, uniform
from baryir.degradations.registry import register_degradation

__all__ = ["JPEGCompression", "pil_jpeg"]


def pil_jpeg(image: Tensor, quality: int) -> Tensor:
    """Encode/decode one image ``(C, H, W)`` (C = 1 or 3) in [0, 1] with libjpeg through Pillow.

    The image is rounded to 8 bits first; Pillow's defaults otherwise (standard IJG tables
    scaled by ``quality``, 4:2:0 chroma subsampling, baseline, no optimisation). Deterministic.
    """
    array = (image.detach().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu()
    array = array.permute(1, 2, 0).numpy()
    pil = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    out = torch.from_numpy(decoded.copy()).reshape(array.shape).permute(2, 0, 1)
    return out.to(device=image.device, dtype=image.dtype) / 255.0


@register_degradation("jpeg", argument="quality")
class JPEGCompression(Degradation):
    """JPEG at ``quality`` (the IJG/libjpeg 1..100 scale; default range 10..90, one per image).

    A range draws an integer quality uniformly from ``[min, max]``. ``backend="pil"`` (default)
    runs the real codec image by image on the CPU (exact artefacts, 8-bit output, about 1 ms per
    128x128 image); ``backend="kornia"`` uses ``kornia.enhance.jpeg_codec_differentiable``
    (batched, on the image's device, differentiable, RGB only, an approximation of the codec
    with the same quality scale; output not quantised). ``params()`` returns the configuration.
    """

    def __init__(
        self, quality: ParamRange = (10, 90), backend: Literal["pil", "kornia"] = "pil"
    ) -> None:
        self.quality = as_range(quality, "JPEGCompression quality", 1, 100)
        if backend not in ("pil", "kornia"):
            raise ValueError(f"JPEGCompression backend must be 'pil' or 'kornia', got {backend!r}")
        self.backend = backend

    def sample_params(
        self, batch: int, generator: torch.Generator | None, like: Tensor
    ) -> dict[str, Tensor]:
        lo, hi = round(self.quality[0]), round(self.quality[1])
        if lo == hi:
            return {"quality": torch.full((batch,), lo, dtype=torch.long, device=like.device)}
        draw = uniform((0.0, 1.0), batch, generator, like) * (hi - lo + 1)
        return {"quality": (lo + draw.long()).clamp_(lo, hi)}

    def apply(
        self, image: Tensor, params: dict[str, Tensor], generator: torch.Generator | None
    ) -> Tensor:
        if self.backend == "kornia":
            quality = params["quality"].to(device=image.device, dtype=image.dtype)
            return jpeg_codec_differentiable(image, quality).clamp(0.0, 1.0)
        qualities = params["quality"].tolist()
        return torch.stack([pil_jpeg(img, q) for img, q in zip(image, qualities, strict=True)])

    def params(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = dict(range_params("quality", self.quality))
        out.update(backend=self.backend)
        return out
