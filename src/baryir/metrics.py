"""PSNR and SSIM under an explicit evaluation protocol.

The paper's protocol (the default :class:`EvalProtocol`): images centre-cropped to a multiple
of 8, the output clamped and quantised to 8 bits, PSNR and SSIM on RGB with data range 255, no
border crop, and the scores of each image averaged over the test set (the mean of per-image
PSNR, not the PSNR of the pooled error). SSIM matches ``skimage.metrics.structural_similarity``
with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=-1,
data_range=255`` (11 x 11 window, borders of 5 pixels left out of the mean); torchmetrics'
``StructuralSimilarityIndexMeasure`` does not leave the border out, so :func:`ssim` is used.

The Y channel is BT.601 as in MATLAB ``rgb2ycbcr`` and BasicSR:
``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for ``R, G, B`` in ``[0, 1]`` (``Y`` in
``[16, 235]``), computed from the quantised RGB values and not rounded again (BasicSR).

Identical images give a PSNR of ``inf`` (zero error), and a mean over images that includes one
is ``inf`` too, as with scikit-image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor
from torchmetrics import Metric, MetricCollection
from torchmetrics.functional.image import peak_signal_noise_ratio
from torchmetrics.image import PeakSignalNoiseRatio

__all__ = [
    "EvalProtocol",
    "ProtocolPSNR",
    "ProtocolSSIM",
    "WorseThanInput",
    "crop_to_multiple",
    "per_image_psnr",
    "prepare_pair",
    "psnr_ssim",
    "restoration_metrics",
    "rgb_to_y",
    "ssim",
]

SSIM_KERNEL_SIZE = 11
SSIM_SIGMA = 1.5
_Y_WEIGHTS = (65.481, 128.553, 24.966)


@dataclass(frozen=True)
class EvalProtocol:
    """How restored images are scored.

    Args:
        channel: ``"rgb"`` (the paper) or ``"y"`` (BT.601 luma, used by some deraining papers;
            about 2 dB higher on Rain100L).
        crop_border: pixels removed from each side before scoring.
        data_range: the range the metrics see (images are scaled from ``[0, 1]`` to
            ``[0, data_range]``).
        quantize: round both images to 8-bit levels first (what saving to PNG does).
        size_policy: ``"crop"``: centre-crop both images to a multiple of ``multiple`` (the
            paper; apply :func:`crop_to_multiple` to the input before inference too, so the
            output and target line up); ``"pad"``: score the full images (the model pads).
        multiple: the multiple for ``size_policy="crop"``.
    """

    channel: Literal["rgb", "y"] = "rgb"
    crop_border: int = 0
    data_range: float = 255.0
    quantize: bool = True
    size_policy: Literal["crop", "pad"] = "crop"
    multiple: int = 8

    def __post_init__(self) -> None:
        if self.channel not in ("rgb", "y"):
            raise ValueError(f"EvalProtocol.channel must be 'rgb' or 'y', got {self.channel!r}")
        if self.size_policy not in ("crop", "pad"):
            raise ValueError(
                f"EvalProtocol.size_policy must be 'crop' or 'pad', got {self.size_policy!r}"
            )
        if self.crop_border < 0 or self.multiple < 1 or self.data_range <= 0:
            raise ValueError(
                "EvalProtocol needs crop_border >= 0, multiple >= 1, data_range > 0; got "
                f"{self.crop_border}, {self.multiple}, {self.data_range}"
            )


def crop_to_multiple(image: Tensor, multiple: int = 8) -> Tensor:
    """Centre-crop ``(..., H, W)`` so that ``H`` and ``W`` are multiples of ``multiple``.

    The same crop as ``crop_img`` in the PromptIR/AdaIR/BaryIR test code: the remainder is split
    with the smaller half on the top/left.
    """
    height, width = image.shape[-2:]
    if height < multiple or width < multiple:
        raise ValueError(f"crop_to_multiple: image {height}x{width} is smaller than {multiple}")
    crop_h, crop_w = height % multiple, width % multiple
    top, left = crop_h // 2, crop_w // 2
    return image[..., top : top + height - crop_h, left : left + width - crop_w]


def rgb_to_y(image: Tensor) -> Tensor:
    """BT.601 luma of ``(B, 3, H, W)`` RGB in ``[0, 1]`` as ``(B, 1, H, W)`` in ``[0, 1]``.

    ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255`` (MATLAB ``rgb2ycbcr``, BasicSR).
    """
    weights = image.new_tensor(_Y_WEIGHTS).view(1, 3, 1, 1)
    return (16.0 + (image * weights).sum(dim=1, keepdim=True)) / 255.0


def _gaussian_filter(image: Tensor) -> Tensor:
    """Separable Gaussian filter (11 taps, sigma 1.5) over ``(..., H, W)``, "valid" borders only.

    A sum of shifted slices rather than a convolution: exact in float64 and fast on the CPU.
    """
    coords = torch.arange(SSIM_KERNEL_SIZE, dtype=torch.float64) - (SSIM_KERNEL_SIZE - 1) / 2
    window = torch.exp(-(coords**2) / (2 * SSIM_SIGMA**2))
    weights = (window / window.sum()).tolist()
    out_h = image.shape[-2] - SSIM_KERNEL_SIZE + 1
    out_w = image.shape[-1] - SSIM_KERNEL_SIZE + 1
    rows = image[..., :out_h, :] * weights[0]
    for k in range(1, SSIM_KERNEL_SIZE):
        rows.add_(image[..., k : k + out_h, :], alpha=weights[k])
    out = rows[..., :out_w] * weights[0]
    for k in range(1, SSIM_KERNEL_SIZE):
        out.add_(rows[..., k : k + out_w], alpha=weights[k])
    return out


def ssim(pred: Tensor, target: Tensor, data_range: float = 255.0) -> Tensor:
    """Per-image SSIM of ``(B, C, H, W)`` pairs, returned as ``(B,)``.

    Same as ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, channel_axis=-1)``: an 11 x 11 Gaussian window, the SSIM map
    averaged over channels and over the pixels at least 5 from the border. (torchmetrics' SSIM
    also averages the reflect-padded border, which differs by up to about 0.006.)
    """
    if min(pred.shape[-2:]) < SSIM_KERNEL_SIZE:
        raise ValueError(
            f"ssim: images must be at least {SSIM_KERNEL_SIZE} pixels a side, "
            f"got {tuple(pred.shape)}"
        )
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    stats = _gaussian_filter(torch.cat([pred, target, pred * pred, target * target, pred * target]))
    mu_p, mu_t, pp, tt, pt = stats.split(pred.shape[0])
    var_p, var_t, cov = pp - mu_p**2, tt - mu_t**2, pt - mu_p * mu_t
    ssim_map = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / (
        (mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2)
    )
    return ssim_map.mean(dim=(1, 2, 3))


def _prepare(image: Tensor, protocol: EvalProtocol) -> Tensor:
    if protocol.size_policy == "crop":
        image = crop_to_multiple(image, protocol.multiple)
    image = image.clamp(0, 1)
    if protocol.quantize:
        image = (image * 255.0).round() / 255.0
    if protocol.channel == "y":
        image = rgb_to_y(image)
    image = image * protocol.data_range
    border = protocol.crop_border
    if border:
        image = image[..., border:-border, border:-border]
    return image


def prepare_pair(pred: Tensor, target: Tensor, protocol: EvalProtocol) -> tuple[Tensor, Tensor]:
    """Bring a prediction and its target into the metric space of ``protocol``.

    Args:
        pred: ``(B, 3, H, W)`` or ``(3, H, W)``, float in ``[0, 1]`` (values outside are clamped).
        target: the same shape.

    Returns:
        ``(pred, target)`` as ``(B, C, H', W')`` float64 in ``[0, data_range]``, ``C`` = 3 (RGB)
        or 1 (Y); float32 on devices without float64 (MPS).
    """
    if pred.shape != target.shape:
        raise ValueError(
            f"prepare_pair: pred {tuple(pred.shape)} and target {tuple(target.shape)} differ"
        )
    if pred.ndim == 3:
        pred, target = pred.unsqueeze(0), target.unsqueeze(0)
    if pred.ndim != 4 or pred.shape[1] != 3:
        raise ValueError(
            f"prepare_pair: expected (B, 3, H, W) or (3, H, W), got {tuple(pred.shape)}"
        )
    dtype = torch.float32 if pred.device.type == "mps" else torch.float64
    pred, target = pred.detach().to(dtype), target.detach().to(dtype)
    return _prepare(pred, protocol), _prepare(target, protocol)


def per_image_psnr(pred: Tensor, target: Tensor, protocol: EvalProtocol | None = None) -> Tensor:
    """The PSNR of each image of a batch ``(B, 3, H, W)`` under ``protocol``: ``(B,)`` in dB.

    Example:
        >>> x = torch.full((2, 3, 8, 8), 0.2)
        >>> per_image_psnr(x + torch.tensor([0.0, 0.2]).view(2, 1, 1, 1), x)  # 20 log10(255 / 51)
        tensor([    inf, 13.9794], dtype=torch.float64)
    """
    protocol = protocol or EvalProtocol()
    pred, target = prepare_pair(pred, target, protocol)
    return peak_signal_noise_ratio(
        pred, target, data_range=protocol.data_range, reduction="none", dim=(1, 2, 3)
    )


class ProtocolPSNR(PeakSignalNoiseRatio):
    """Mean over images of the per-image PSNR, on ``[0, 1]`` inputs prepared by ``protocol``.

    ``update(pred, target)`` takes raw ``(B, 3, H, W)`` model outputs and targets in ``[0, 1]``.
    """

    def __init__(self, protocol: EvalProtocol | None = None) -> None:
        protocol = protocol or EvalProtocol()
        super().__init__(
            data_range=protocol.data_range, reduction="elementwise_mean", dim=(1, 2, 3)
        )
        self.protocol = protocol

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add the per-image errors of a batch."""
        super().update(*prepare_pair(preds, target, self.protocol))


class ProtocolSSIM(Metric):
    """Mean over images of the per-image SSIM (:func:`ssim`), on inputs prepared by ``protocol``.

    ``update(pred, target)`` takes raw ``(B, 3, H, W)`` model outputs and targets in ``[0, 1]``.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, protocol: EvalProtocol | None = None) -> None:
        super().__init__()
        self.protocol = protocol or EvalProtocol()
        self.add_state(
            "similarity", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum"
        )
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add the per-image SSIM of a batch."""
        values = ssim(
            *prepare_pair(preds, target, self.protocol), data_range=self.protocol.data_range
        )
        self.similarity += values.sum().to(self.similarity)
        self.total += values.numel()

    def compute(self) -> Tensor:
        """Mean SSIM over all images seen."""
        return (self.similarity / self.total).float()


class WorseThanInput(Metric):
    """Share of images whose restored PSNR is below the PSNR of the degraded input.

    ``update(restored, degraded, target)`` takes raw ``(B, 3, H, W)`` images in ``[0, 1]``; both
    are scored against ``target`` under ``protocol``. On a clean row (input = target, PSNR
    ``inf``) every image the model changes beyond 8-bit rounding counts as made worse.

    Example:
        >>> metric = WorseThanInput()
        >>> x = torch.rand(2, 3, 16, 16)
        >>> metric.update(x.flip(-1), x, x)
        >>> float(metric.compute())
        1.0
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, protocol: EvalProtocol | None = None) -> None:
        super().__init__()
        self.protocol = protocol or EvalProtocol()
        self.add_state("worse", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, restored: Tensor, degraded: Tensor, target: Tensor) -> None:
        """Count the images of a batch that the restoration made worse than their input."""
        worse = per_image_psnr(restored, target, self.protocol) < per_image_psnr(
            degraded, target, self.protocol
        )
        self.worse += int(worse.sum())
        self.total += worse.numel()

    def compute(self) -> Tensor:
        """The share of images made worse, in [0, 1]."""
        return self.worse.float() / self.total


def restoration_metrics(
    protocol: EvalProtocol | None = None, prefix: str | None = None
) -> MetricCollection:
    """PSNR and SSIM (keys ``psnr``, ``ssim``) for raw ``[0, 1]`` outputs and targets.

    Example:
        >>> metrics = restoration_metrics(EvalProtocol(), prefix="test/")
        >>> x = torch.rand(2, 3, 32, 32)
        >>> metrics.update(x, x.flip(-1))
        >>> sorted(metrics.compute())
        ['test/psnr', 'test/ssim']
    """
    protocol = protocol or EvalProtocol()
    return MetricCollection(
        {"psnr": ProtocolPSNR(protocol), "ssim": ProtocolSSIM(protocol)},
        prefix=prefix,
        compute_groups=False,
    )


def psnr_ssim(
    pred: Tensor, target: Tensor, protocol: EvalProtocol | None = None
) -> tuple[float, float]:
    """PSNR (dB) and SSIM of one image pair, ``(3, H, W)`` or ``(1, 3, H, W)`` in ``[0, 1]``."""
    if pred.ndim == 4 and pred.shape[0] != 1:
        raise ValueError(f"psnr_ssim: expected one image, got a batch of {pred.shape[0]}")
    protocol = protocol or EvalProtocol()
    pred, target = prepare_pair(pred, target, protocol)
    psnr = peak_signal_noise_ratio(
        pred, target, data_range=protocol.data_range, reduction="none", dim=(1, 2, 3)
    )
    return float(psnr[0]), float(ssim(pred, target, data_range=protocol.data_range)[0])
