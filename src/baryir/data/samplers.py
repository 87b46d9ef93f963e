"""A batch sampler that balances the degradation sources in every batch (for the barycenter terms).

How an epoch is drawn, for ``T`` batches of ``B`` in all (``T = R x batches per rank``, R ranks)
and ``K`` sources:

``B >= K``, every source in every batch:

1. Source k gets ``q_k`` of the ``T x B`` slots: its share in proportion to its size, raised
   to at least ``T`` (the excess is taken from the larger sources in proportion to what they
   have above ``T``; largest remainder rounding). One of its items goes to each batch, the
   other ``q_k - T`` are shuffled with the other sources' into the remaining slots.
2. The slots are shuffled within each batch.

``B < K`` (say 11 CDD-11 sources in batches of 4), rotating sources:

1. The slots are filled, in order, from a sequence of random permutations of the K sources,
   each permutation arranged so that the batch it completes holds no source twice. So every
   batch holds ``B`` distinct sources, and every source is drawn equally often, once in each
   permutation's ``K`` slots (its count over the epoch is ``T x B / K``, rounded down or up).
   Sources are drawn uniformly here, not in proportion to their sizes: the batch form of the
   barycenter objective, ``(1/B) sum_i lambda_k(i) ...``, then weights source ``k`` by
   ``lambda_k`` itself, up to a constant (``losses/potentials.py``).

In both cases each source draws its indices from fresh random permutations of its own items,
cycling (a new permutation per cycle) when it needs more items than it has: small sources repeat
within an epoch, large ones are covered by a different random subset each epoch; and rank r takes
batches ``r, r + R, ...``. ``lambda_k`` itself is not the sampler's: ``data/mixing.py`` computes
it from the epoch lengths of the sources, whatever the batch size.

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
    """Batches of dataset indices holding every source (``B >= K``) or ``B`` distinct ones.

    See the module docstring for how an epoch is drawn in each case.

    Args:
        source_of_each_index: (N,) source id of every dataset index.
        batch_size: samples per batch ``B``: at least the number of sources ``K`` for every
            source in every batch; below ``K``, batches of distinct, rotating sources.
        num_replicas: number of ranks (default: the distributed world size, else 1).
        rank: this rank (default: the distributed rank, else 0).
        seed: base seed; epoch ``e`` is drawn from ``(seed, e)``.
        drop_last: ``T = floor(N / B)`` batches per epoch in all (else ``ceil``); every batch
            is full either way.
        sampler: set by Lightning under DDP (its ``num_replicas``/``rank`` are used).

    Example:
        >>> sources = [0, 0, 0, 1, 1, 2]
        >>> all(len({sources[i] for i in b}) == 3 for b in SourceBalancedBatchSampler(sources, 3))
        True
        >>> all(len({sources[i] for i in b}) == 2 for b in SourceBalancedBatchSampler(sources, 2))
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
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
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

    @property
    def rotating(self) -> bool:
        """True when the batch is smaller than the number of sources (rotating sources)."""
        return self.batch_size < len(self.groups)

    def epoch_batches(self) -> Tensor:
        """(T, B) indices of every rank's batches for the current epoch (rank r: rows r::R)."""
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % 2**63)
        total = self.num_batches * self.num_replicas
        if self.rotating:
            return self._rotating_batches(total, generator)
        quota = _quotas(
            torch.tensor([len(group) for group in self.groups], dtype=torch.float64),
            total,
            self.batch_size,
        )
        guaranteed, shared = [], []
        for group, count in zip(self.groups, quota.tolist(), strict=True):
            stream = _stream(group, count, generator)
            guaranteed.append(stream[:total])
            shared.append(stream[total:])
        pool = torch.cat(shared)
        pool = pool[torch.randperm(len(pool), generator=generator)]
        batches = torch.cat([torch.stack(guaranteed, 1), pool.view(total, -1)], 1)
        order = torch.rand(batches.shape, generator=generator).argsort(1)
        return batches.gather(1, order)

    def _rotating_batches(self, total: int, generator: torch.Generator) -> Tensor:
        """(T, B) indices for ``B < K``: distinct sources per batch, each drawn equally often."""
        order = _rotation(len(self.groups), total * self.batch_size, self.batch_size, generator)
        counts = torch.bincount(order, minlength=len(self.groups)).tolist()
        slots = torch.empty_like(order)
        for k, (group, count) in enumerate(zip(self.groups, counts, strict=True)):
            slots[order == k] = _stream(group, count, generator)
        return slots.view(total, self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.epoch_batches()[self.rank :: self.num_replicas]
        resume_at, self._resume_at = self._resume_at, None
        start = resume_at[1] if resume_at is not None and resume_at[0] == self.epoch else 0
        yield from batches[start:].tolist()


def _stream(group: Tensor, count: int, generator: torch.Generator) -> Tensor:
    """``count`` items of ``group``: fresh random permutations of it, concatenated and cut."""
    cycles = max(1, math.ceil(count / len(group)))
    return torch.cat(
        [group[torch.randperm(len(group), generator=generator)] for _ in range(cycles)]
    )[:count]


def _rotation(num_sources: int, slots: int, batch_size: int, generator: torch.Generator) -> Tensor:
    """(slots,) source positions: random permutations of ``range(num_sources)`` back to back,
    each arranged so that no run of ``batch_size`` slots (a batch) holds a source twice.

    Needs ``batch_size <= num_sources``. The sources already in the batch that a permutation
    completes are moved behind the ones that complete it.
    """
    order: list[int] = []
    while len(order) < slots:
        filled = len(order) % batch_size
        in_batch = set(order[len(order) - filled :])
        permutation = torch.randperm(num_sources, generator=generator).tolist()
        free = [k for k in permutation if k not in in_batch]
        taken = [k for k in permutation if k in in_batch]
        need = batch_size - filled
        order += free[:need] + taken + free[need:]
    return torch.tensor(order[:slots], dtype=torch.long)


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
