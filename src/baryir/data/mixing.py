"""Mixing several sources into one training set: repeat factors or target proportions, and the
weights ``lambda_k`` of the Wasserstein-barycenter objective.

Example:
    >>> counts = [400, 200, 1000]
    >>> lengths_from_proportions(counts, [0.5, 0.25, 0.25])
    [800, 400, 400]
    >>> source_weights([2000, 72000, 72135], num_sources=3)  # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from baryir.data.datasets.base import DegradationDataset

__all__ = ["MixedDataset", "lengths_from_proportions", "lengths_from_repeats", "source_weights"]


def lengths_from_repeats(counts: Sequence[int], repeats: Sequence[float]) -> list[int]:
    """Epoch length of each sub-dataset: ``round(count * repeat)``, at least 1."""
    if len(counts) != len(repeats):
        raise ValueError(f"{len(counts)} datasets but {len(repeats)} repeat factors")
    if any(r <= 0 for r in repeats):
        raise ValueError(f"repeat factors must be positive, got {list(repeats)}")
    return [max(1, round(count * repeat)) for count, repeat in zip(counts, repeats, strict=True)]


def lengths_from_proportions(counts: Sequence[int], proportions: Sequence[float]) -> list[int]:
    """Epoch lengths giving each sub-dataset the share ``p_k / sum(p)`` of one epoch.

    The epoch keeps the total size ``sum(counts)``; each length is at least 1.
    """
    if len(counts) != len(proportions):
        raise ValueError(f"{len(counts)} datasets but {len(proportions)} proportions")
    if any(p <= 0 for p in proportions):
        raise ValueError(f"proportions must be positive, got {list(proportions)}")
    total, norm = sum(counts), sum(proportions)
    return [max(1, round(total * p / norm)) for p in proportions]


def source_weights(
    sample_counts: Sequence[int], source_ids: Sequence[int], num_sources: int
) -> Tensor:
    """``lambda_k``: inverse training-sample count of each source, normalised to sum 1.

    The counts are the epoch lengths of the sources, whatever the batch sampler does with them
    (``samplers.py``: batches holding every source, or, below ``K`` samples a batch, rotating
    sources drawn equally often); a compound source (``cdd_low_haze``) counts as any other.

    Args:
        sample_counts: samples per epoch of each sub-dataset (after repeats).
        source_ids: source index of each sub-dataset (several may share a source).
        num_sources: K.

    Returns:
        (K,) float32. A source with no sample raises ``ValueError``.
    """
    totals = torch.zeros(num_sources, dtype=torch.float64)
    for count, source in zip(sample_counts, source_ids, strict=True):
        totals[source] += count
    if (totals <= 0).any():
        missing = [k for k in range(num_sources) if totals[k] <= 0]
        raise ValueError(f"sources {missing} have no training sample")
    inverse = 1.0 / totals
    return (inverse / inverse.sum()).float()


class MixedDataset(Dataset):
    """Concatenation of sources, each stretched or shrunk to a given epoch length.

    Item ``j`` of sub-dataset ``k`` is its sample ``j % n_k`` when the length is at least
    ``n_k`` (repeat), else ``(j * n_k) // length`` (an evenly strided subset).

    Args:
        datasets: the sources.
        lengths: epoch length of each (default: their own sizes).
    """

    def __init__(
        self, datasets: Sequence[DegradationDataset], lengths: Sequence[int] | None = None
    ):
        if not datasets:
            raise ValueError("MixedDataset needs at least one dataset")
        self.datasets = list(datasets)
        self.lengths = list(lengths) if lengths is not None else [len(d) for d in datasets]
        if len(self.lengths) != len(self.datasets) or min(self.lengths) < 1:
            raise ValueError(f"bad lengths {self.lengths} for {len(self.datasets)} datasets")
        self.offsets = [0, *itertools.accumulate(self.lengths)]

    def __len__(self) -> int:
        return self.offsets[-1]

    def locate(self, index: int) -> tuple[int, int]:
        """``(dataset k, index inside dataset k)`` of mixed item ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range ({len(self)} items)")
        k = bisect.bisect_right(self.offsets, index) - 1
        j, n, length = index - self.offsets[k], len(self.datasets[k]), self.lengths[k]
        return k, (j % n if length >= n else (j * n) // length)

    def __getitem__(self, index: int) -> dict:
        k, local = self.locate(index)
        return self.datasets[k][local]

    def source_of_index(self) -> Tensor:
        """(N,) int64 source id of every mixed item (input of the balanced batch sampler)."""
        ids = torch.tensor([d.source_id for d in self.datasets])
        return ids.repeat_interleave(torch.tensor(self.lengths))
