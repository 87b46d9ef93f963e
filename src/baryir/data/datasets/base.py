"""Base class of every training/evaluation dataset: the item-dict contract and safe loading."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from torch import Tensor
from torch.utils.data import Dataset

from baryir.data.transforms import PairedRandomCrop
from baryir.io.image import ImageReadError
from baryir.metrics import EvalProtocol

__all__ = ["DegradationDataset"]

log = logging.getLogger(__name__)

_MAX_RETRIES = 8


class DegradationDataset(Dataset, ABC):
    """The images of one degradation (a training task or a test set).

    Not to be confused with a *source*: the index of a dual potential, which several datasets
    may share (noise at sigma 15, 25 and 50 are three datasets of the source "noise"); each
    dataset carries its source in ``source_id``.

    Items are dicts ``{"input": (3, H, W) float32, "target": (3, H, W) float32,
    "degradation": int, "source": int, "name": str}``: the degradation id, the source
    (potential) index and the file name. The default collate stacks them into the batch the
    task reads: ``input``/``target`` ``(B, 3, H, W)``, ``degradation``/``source`` ``(B,)`` int64,
    ``name`` a list of ``B`` strings.

    A file that passed the setup header check but fails to decode (truncated data) is logged
    as a WARNING naming the file; in training (``train=True``) the item is replaced by the next
    one of the same source so a long run never dies halfway, in evaluation the
    ``ImageReadError`` is raised (a test set must not silently lose images).

    Attributes:
        label: human-readable name used in summaries and metric names.
        degradation_id: fine degradation id put in every item.
        source_id: source (potential) index put in every item.
        train: random crops/augmentation/degradation when True, deterministic otherwise.
        crop: the random paired crop of a training source (None: no random crops).
        protocol: how the row is scored (an :class:`~baryir.metrics.EvalProtocol`): set on
            the rows a suite builds (its ``protocol``); None: the command's protocol.
    """

    label: str
    degradation_id: int
    source_id: int
    train: bool
    task: str | None
    image_count: int
    crop: PairedRandomCrop | None = None
    protocol: EvalProtocol | None = None

    def set_patch_size(self, size: int) -> None:
        """Take ``size``-pixel random crops from now on (progressive patch sizes).

        Raises:
            ValueError: a source without random crops (an evaluation source).
        """
        if self.crop is None:
            raise ValueError(f"{self.label}: only a source with random crops has a patch size")
        self.crop = PairedRandomCrop(size, self.crop.dihedral, self.crop.small)

    @abstractmethod
    def load(self, index: int) -> dict[str, Any]:
        """Build item ``index`` (may raise ``ImageReadError``)."""

    def __getitem__(self, index: int) -> dict[str, Tensor | int | str]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {self.label} ({len(self)} items)")
        retries = _MAX_RETRIES if self.train else 0
        for _ in range(retries):
            try:
                return self.load(index)
            except ImageReadError as error:
                log.warning("%s: %s; using another sample instead", self.label, error)
                index = (index + 1) % len(self)
        return self.load(index)
