"""The scores of one test set: the one scorer behind ``baryir test``, ``suite`` and ``compare``.

:class:`SetScorer` keeps, for one test set, the restored output's PSNR/SSIM, the degraded
input's PSNR/SSIM and the share of images the model made worse (``metrics.WorseThanInput``),
and the lowest restored PSNR of its images (``psnr_min``: on a clean row, the photo the model
changed most; a mean can hide one ruined photo), all under one
:class:`~baryir.metrics.EvalProtocol`. ``RestorationTask`` (validation and test)
and :func:`baryir.evaluation.runner.evaluate` both score through it, so a row means the same
thing wherever it is printed. It is also the one place that scores single images: :meth:`SetScorer.
update` returns each image's input and restored PSNR, which the per-image table
(``per_image.csv``) and the comparison pictures show.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torchmetrics.aggregation import MinMetric

from baryir.io.image import ImageReadError
from baryir.metrics import (
    EvalProtocol,
    WorseThanInput,
    crop_to_multiple,
    per_image_psnr,
    restoration_metrics,
)

__all__ = ["ROW_KEYS", "SetScorer"]

ROW_KEYS = ("psnr", "ssim", "input_psnr", "input_ssim", "worse", "psnr_min")
"""The keys of a scored row, in report order."""


class SetScorer(nn.Module):
    """Accumulate the scores of one test set over batches.

    Use :meth:`crop` on each ``(input, target)`` pair before inference (the protocol's
    crop to a multiple of 8), :meth:`update` after it, :meth:`compute` at the end of the set.

    Args:
        protocol: how images are scored (default: the paper's).

    Example:
        >>> scorer = SetScorer()
        >>> clean = torch.rand(2, 3, 16, 16)
        >>> scorer.update(clean, clean.flip(-1), clean)
        >>> row = scorer.compute()
        >>> row["worse"], row["psnr"] > row["input_psnr"]
        (0.0, True)
    """

    def __init__(self, protocol: EvalProtocol | None = None) -> None:
        super().__init__()
        self.protocol = protocol or EvalProtocol()
        self.restored = restoration_metrics(self.protocol)
        self.degraded = restoration_metrics(self.protocol)
        self.worse = WorseThanInput(self.protocol)
        self.lowest = MinMetric(nan_strategy="error")

    def crop(
        self, degraded: Tensor, target: Tensor, names: Sequence[str] = ()
    ) -> tuple[Tensor, Tensor]:
        """The pair cropped to the protocol's multiple (``size_policy="crop"``), else as is.

        Raises:
            ImageReadError: an image is smaller than the multiple (names it).
        """
        if self.protocol.size_policy != "crop":
            return degraded, target
        height, width = degraded.shape[-2:]
        if min(height, width) < self.protocol.multiple:
            raise ImageReadError(
                f"cannot evaluate {', '.join(names) or 'an image'}: {height}x{width} is smaller "
                f"than the {self.protocol.multiple}-pixel crop; remove it or score with "
                "size_policy 'pad' (baryir test: --model.metric_size_policy pad)"
            )
        multiple = self.protocol.multiple
        return crop_to_multiple(degraded, multiple), crop_to_multiple(target, multiple)

    def update(self, restored: Tensor, degraded: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Add a batch ``(B, 3, H, W)`` in [0, 1] (output, input and ground truth).

        Returns:
            Each image's input PSNR and restored PSNR, two ``(B,)`` tensors in dB.
        """
        self.restored.update(restored, target)
        self.degraded.update(degraded, target)
        self.worse.update(restored, degraded, target)
        psnr = per_image_psnr(restored, target, self.protocol)
        self.lowest.update(psnr)
        return per_image_psnr(degraded, target, self.protocol), psnr

    def compute(self) -> dict[str, float]:
        """The set's row: ``psnr``, ``ssim``, ``input_psnr``, ``input_ssim``, ``worse``,
        ``psnr_min``."""
        restored, degraded = self.restored.compute(), self.degraded.compute()
        return {
            "psnr": float(restored["psnr"]),
            "ssim": float(restored["ssim"]),
            "input_psnr": float(degraded["psnr"]),
            "input_ssim": float(degraded["ssim"]),
            "worse": float(self.worse.compute()),
            "psnr_min": float(self.lowest.compute()),
        }

    def reset(self) -> None:
        """Forget every image (the next set, or the next validation epoch)."""
        self.restored.reset()
        self.degraded.reset()
        self.worse.reset()
        self.lowest.reset()
