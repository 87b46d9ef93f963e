"""A batch sampler that puts every source in every batch (needed by the barycenter terms).

How an epoch is drawn, for ``T`` batches in all (``T = R x batches per rank``, R ranks):

1. Source k gets ``q_k`` of the ``T x B`` slots: its share in proportion to its size, raised
   to at least ``T`` (the excess is taken from the larger sources in proportion to what they
   have above ``T``; largest remainder rounding). One of its items goes to each batch, the
   other ``q_k - T`` are shuffled with the other sources' into the remaining slots.
2. Each source draws its indices from fresh random permutations of its own items, cycling
   (a new permutation per cycle) when it needs more items than it has: small sources repeat
   within an epoch, large ones are covered by a different random subset each epoch.
3. The slots are shuffled within each batch, and rank r takes batches ``r, r + R, ...``.

Every rank computes the same epoch from ``(seed, epoch)`` and keeps its own batches, so the
ranks get distinct batches and the same number of them. It is a batch sampler, so it runs in
the main process and works with any number of DataLoader workers.

Lightning: ``set_epoch`` is reached through ``batch_sampler.sampler`` (this object), the
attribute Lightning's fit loop looks at. Under DDP with ``use_distributed_sampler=True``
Lightning re-creates the sampler with a ``DistributedSampler`` in ``sampler``; only its
``num_replicas``/``rank`` are used.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import BatchSampler, Sampler

__all__ = ["SourceBalancedBatchSampler"]


class SourceBalancedBatchSampler(BatchSampler):
    """Batches of dataset indices holding at least one sample of every source.

    Args:
        source_of_each_index: (N,) source id of every dataset index.
        batch_size: samples per batch, at least the number of sources K.
        num_replicas: number of ranks (default: the distributed world size, else 1).
        rank: this rank (default: the distributed rank, else 0).
        seed: base seed; epoch ``e`` is drawn from ``(seed, e)``.
        drop_last: ``T = floor(N / B)`` batches per epoch in all (else ``ceil``); every batch
            is full either way.
        sampler: set by Lightning under DDP (its ``num_replicas``/``rank`` are used).

    Example:
        >>> sampler = SourceBalancedBatchSampler([0, 0, 0, 1, 1, 2], batch_size=3)
        >>> all(len({[0, 0, 0, 1, 1, 2][i] for i in b}) == 3 for b in sampler)
        True
    """

    def __init__(
        self,
        source_of_each_index: Sequence[int] | Tensor,
        batch_size: int,
        num_replicas: int | None = None,
        rank: int | None = None,
        seed: int = 0,
        drop_last: bool = True,
        sampler: Sampler | None = None,
    ) -> None:
        sources = torch.as_tensor(source_of_each_index, dtype=torch.long).flatten()
        if sources.numel() == 0:
            raise ValueError("SourceBalancedBatchSampler got an empty dataset")
        ids = sources.unique()
        if batch_size < len(ids):
            raise ValueError(
                f"batch_size {batch_size} is smaller than the number of sources {len(ids)}: "
                "a balanced batch needs at least one sample of each"
            )
        if num_replicas is None:
            num_replicas = getattr(sampler, "num_replicas", None) or _world_size()
        if rank is None:
            rank = getattr(sampler, "rank", None)
            rank = _rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not in [0, {num_replicas})")
        total = (
            sources.numel() // batch_size if drop_last else math.ceil(sources.numel() / batch_size)
        )
        per_rank = total // num_replicas if drop_last else math.ceil(total / num_replicas)
        if per_rank < 1:
            raise ValueError(
                f"{sources.numel()} samples are too few for batch_size {batch_size} on "
                f"{num_replicas} ranks"
            )
        self.source_ids = ids
        self.groups = [torch.nonzero(sources == k).flatten() for k in ids]
        self.batch_size = batch_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.seed = seed
        self.drop_last = drop_last
        self.num_batches = per_rank
        self.epoch = 0
        self.sampler = self
        self._resume_at: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches ``__iter__`` yields."""
        self.epoch = epoch

    def resume(self, epoch: int, batches_done: int) -> None:
        """Select ``epoch`` and skip its first ``batches_done`` batches (mid-epoch resume).

        The skip applies once, to the next iteration over ``epoch``; an iteration over any other
        epoch (the checkpoint was written at the end of the epoch) cancels it.
        """
        self.epoch = epoch
        self._resume_at = (epoch, batches_done)

    def __len__(self) -> int:
        return self.num_batches

    def epoch_batches(self) -> Tensor:
        """(T, B) indices of every rank's batches for the current epoch (rank r: rows r::R)."""
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % 2**63)
        total = self.num_batches * self.num_replicas
        quota = _quotas(
            torch.tensor([len(group) for group in self.groups], dtype=torch.float64),
            total,
            self.batch_size,
        )
        guaranteed, shared = [], []
        for group, count in zip(self.groups, quota.tolist(), strict=True):
            cycles = math.ceil(count / len(group))
            stream = torch.cat(
                [group[torch.randperm(len(group), generator=generator)] for _ in range(cycles)]
            )[:count]
            guaranteed.append(stream[:total])
            shared.append(stream[total:])
        pool = torch.cat(shared)
        pool = pool[torch.randperm(len(pool), generator=generator)]
        batches = torch.cat([torch.stack(guaranteed, 1), pool.view(total, -1)], 1)
        order = torch.rand(batches.shape, generator=generator).argsort(1)
        return batches.gather(1, order)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.epoch_batches()[self.rank :: self.num_replicas]
        resume_at, self._resume_at = self._resume_at, None
        start = resume_at[1] if resume_at is not None and resume_at[0] == self.epoch else 0
        yield from batches[start:].tolist()


def _quotas(sizes: Tensor, total: int, batch_size: int) -> Tensor:
    """Items per source in ``total`` batches: proportional to ``sizes``, at least ``total``."""
    slots = total * batch_size
    share = torch.clamp(sizes / sizes.sum() * slots, min=total)
    room = share - total
    share = share - room / room.sum().clamp(min=1e-12) * (share.sum() - slots)
    quota = share.floor().long()
    missing = slots - int(quota.sum())
    quota[torch.argsort(share - quota, descending=True, stable=True)[:missing]] += 1
    return quota


def _world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
