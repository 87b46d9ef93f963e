"""Repeat factors, proportions, lambda and the source-balanced batch sampler."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from baryir.data.datasets.base import DegradationDataset
from baryir.data.mixing import (
    MixedDataset,
    lengths_from_proportions,
    lengths_from_repeats,
    source_weights,
)
from baryir.data.samplers import SourceBalancedBatchSampler


class _Toy(DegradationDataset):
    def __init__(self, n: int, source: int) -> None:
        self.n, self.source_id, self.degradation_id = n, source, source
        self.label, self.train, self.task, self.image_count = f"toy{source}", True, None, n

    def __len__(self) -> int:
        return self.n

    def load(self, index: int) -> dict:
        return {
            "input": torch.zeros(1),
            "target": torch.zeros(1),
            "degradation": self.source_id,
            "source": self.source_id,
            "name": f"{self.source_id}-{index}",
        }


def test_paper_repeats_give_counts() -> None:
    # 400 clean images x5 per sigma, 200 rain pairs x360, 72135 hazy x1
    counts = [400, 400, 400, 200, 72135]
    lengths = lengths_from_repeats(counts, [5, 5, 5, 360, 1])
    assert lengths == [2000, 2000, 2000, 72000, 72135]
    mixed = MixedDataset(
        [_Toy(n, s) for n, s in zip(counts, [0, 0, 0, 1, 2], strict=True)], lengths
    )
    assert len(mixed) == sum(lengths)
    assert torch.bincount(mixed.source_of_index()).tolist() == [6000, 72000, 72135]


def test_repeated_items_cycle_and_subsets_stride() -> None:
    mixed = MixedDataset([_Toy(3, 0), _Toy(10, 1)], [7, 5])
    names = [mixed[i]["name"] for i in range(len(mixed))]
    assert names == [
        "0-0",
        "0-1",
        "0-2",
        "0-0",
        "0-1",
        "0-2",
        "0-0",
        "1-0",
        "1-2",
        "1-4",
        "1-6",
        "1-8",
    ]
    with pytest.raises(IndexError):
        mixed[12]


def test_proportions() -> None:
    assert lengths_from_proportions([400, 200, 1000], [2, 1, 1]) == [800, 400, 400]
    with pytest.raises(ValueError, match="positive"):
        lengths_from_proportions([1, 2], [1, 0])


def test_lambda_is_normalised_inverse_count() -> None:
    weights = source_weights([2000, 2000, 2000, 72000, 72135], [0, 0, 0, 1, 2], 3)
    inverse = torch.tensor([1 / 6000, 1 / 72000, 1 / 72135], dtype=torch.float64)
    torch.testing.assert_close(weights, (inverse / inverse.sum()).float())
    assert abs(float(weights.sum()) - 1) < 1e-6
    torch.testing.assert_close(source_weights([5, 5], [0, 1], 2), torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"sources \[2\]"):
        source_weights([5, 5], [0, 1], 3)


SOURCES = torch.tensor([0] * 50 + [1] * 7 + [2] * 300)  # unequal sizes, 357 items


def _batches(sampler: SourceBalancedBatchSampler) -> list[list[int]]:
    return list(sampler)


def test_every_source_in_every_batch_one_rank() -> None:
    sampler = SourceBalancedBatchSampler(SOURCES, batch_size=6, seed=1)
    batches = _batches(sampler)
    assert len(batches) == len(sampler) == 357 // 6
    for batch in batches:
        assert len(batch) == 6
        assert set(SOURCES[batch].tolist()) == {0, 1, 2}
    counts = torch.bincount(SOURCES[torch.tensor(batches).flatten()])
    # proportional to the sizes (50, 7, 300), but at least one per batch (59 batches)
    assert counts.tolist() == [59, 59, 354 - 2 * 59]
    big = SourceBalancedBatchSampler(torch.tensor([0] * 100 + [1] * 300), batch_size=4)
    counts = torch.bincount(torch.tensor(list(big)).flatten().remainder(400).ge(100).long())
    assert counts.tolist() == [100, 300]


def test_two_ranks_disjoint_equal_deterministic() -> None:
    sources = torch.tensor([0] * 400 + [1] * 300 + [2] * 500)
    ranks = [SourceBalancedBatchSampler(sources, 8, num_replicas=2, rank=r, seed=5) for r in (0, 1)]
    epoch0 = [_batches(s) for s in ranks]
    assert len(epoch0[0]) == len(epoch0[1]) == len(ranks[0]) == 1200 // 8 // 2
    flat = [i for batches in epoch0 for batch in batches for i in batch]
    assert len(flat) == len(set(flat))  # no index twice on the two ranks
    for batches in epoch0:
        assert all(set(sources[b].tolist()) == {0, 1, 2} for b in batches)
    assert epoch0 == [_batches(s) for s in ranks]  # deterministic
    again = SourceBalancedBatchSampler(sources, 8, num_replicas=2, rank=0, seed=5)
    assert _batches(again) == epoch0[0]
    for s in ranks:
        s.set_epoch(1)
    assert _batches(ranks[0]) != epoch0[0]
    ranks[0].set_epoch(0)
    assert _batches(ranks[0]) == epoch0[0]


def test_small_source_cycles() -> None:
    sources = torch.tensor([0] * 2 + [1] * 100)
    batches = _batches(SourceBalancedBatchSampler(sources, 4, drop_last=False))
    assert len(batches) == 26 and all(len(b) == 4 for b in batches)
    assert all(0 in sources[b].tolist() or 1 in sources[b].tolist() for b in batches)
    assert all(set(sources[b].tolist()) == {0, 1} for b in batches)


ELEVEN = torch.tensor(
    [k for k, n in enumerate([5, 50, 7, 100, 3, 20, 20, 20, 9, 11, 40]) for _ in range(n)]
)  # 11 sources of unequal sizes, 285 items


@pytest.mark.parametrize("batch_size", [1, 2, 4, 10])
def test_batch_smaller_than_sources_rotates_distinct_sources(batch_size: int) -> None:
    sampler = SourceBalancedBatchSampler(ELEVEN, batch_size, seed=3)
    assert sampler.rotating
    batches = torch.tensor(_batches(sampler))
    assert batches.shape == (285 // batch_size, batch_size)
    assert all(len(set(ELEVEN[b].tolist())) == batch_size for b in batches)
    # every source equally often (+-1), whatever its size
    counts = torch.bincount(ELEVEN[batches.flatten()], minlength=11)
    assert int(counts.max() - counts.min()) <= 1
    # each run of 11 slots is one permutation of the sources
    blocks = ELEVEN[batches.flatten()][: batches.numel() // 11 * 11].view(-1, 11)
    assert all(sorted(block.tolist()) == list(range(11)) for block in blocks)
    # within a source, no item repeats before all its items were drawn
    large = batches.flatten()[ELEVEN[batches.flatten()] == 3]
    assert len(set(large.tolist())) == len(large)


def test_rotation_is_deterministic_per_epoch_and_split_across_ranks() -> None:
    ranks = [SourceBalancedBatchSampler(ELEVEN, 3, num_replicas=2, rank=r, seed=1) for r in (0, 1)]
    epoch0 = [_batches(s) for s in ranks]
    assert len(epoch0[0]) == len(epoch0[1]) == 285 // 3 // 2
    assert epoch0 == [_batches(s) for s in ranks]
    both = epoch0[0] + epoch0[1]
    assert all(len(set(ELEVEN[b].tolist())) == 3 for b in both)
    ranks[0].set_epoch(1)
    assert _batches(ranks[0]) != epoch0[0]


def test_full_batches_keep_every_source_when_batch_equals_sources() -> None:
    sampler = SourceBalancedBatchSampler(ELEVEN, 11, seed=0)
    assert not sampler.rotating
    assert all(set(ELEVEN[b].tolist()) == set(range(11)) for b in sampler)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        SourceBalancedBatchSampler(ELEVEN, 0)


def test_works_with_dataloader_workers() -> None:
    mixed = MixedDataset([_Toy(20, 0), _Toy(5, 1)], [20, 10])
    sampler = SourceBalancedBatchSampler(mixed.source_of_index(), 4, seed=0)
    loader = DataLoader(mixed, batch_sampler=sampler, num_workers=2)
    batches = list(loader)
    assert len(batches) == 7
    assert all(set(b["source"].tolist()) == {0, 1} for b in batches)


def test_lightning_injects_distributed_sampler() -> None:
    from lightning.fabric.utilities.data import _replace_dunder_methods, _set_sampler_epoch
    from lightning.pytorch.utilities.data import _update_dataloader

    dataset: Dataset = MixedDataset([_Toy(40, 0), _Toy(40, 1)])
    with _replace_dunder_methods(BatchSampler):
        sampler = SourceBalancedBatchSampler(dataset.source_of_index(), 4, seed=2)
    loader = DataLoader(dataset, batch_sampler=sampler)
    ddp = DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=True)
    updated = _update_dataloader(loader, ddp)
    new = updated.batch_sampler
    assert isinstance(new, SourceBalancedBatchSampler)
    assert (new.num_replicas, new.rank, new.seed, len(new)) == (2, 1, 2, 10)
    _set_sampler_epoch(updated, 3)
    assert new.epoch == 3
