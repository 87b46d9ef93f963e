"""The non-finite guard's deferred counts: known flag sequences, the same answers as the
immediate check, and the stop."""

from __future__ import annotations

import logging

import pytest
import torch

from baryir.tasks.guard import NonFiniteGuard, NonFiniteLossError, skips_on_device, step_unless


def _record(guard: NonFiniteGuard, flags: list[int], start: int = 0) -> None:
    for step, flag in enumerate(flags, start):
        guard.record(torch.tensor(bool(flag)), step)


def _immediate(guard: NonFiniteGuard, flags: list[int], start: int = 0) -> None:
    for step, flag in enumerate(flags, start):
        if guard.check("loss", step, torch.tensor(float("nan") if flag else 0.0)):
            guard.passed()


def test_flush_gives_the_immediate_counts(caplog) -> None:
    flags = [0, 1, 1, 0, 1, 0, 0, 1, 1]
    deferred, immediate = NonFiniteGuard(5), NonFiniteGuard(5)
    _immediate(immediate, flags)
    with caplog.at_level(logging.WARNING, logger="baryir.tasks.guard"):
        _record(deferred, flags[:5])
        assert isinstance(deferred.pending_total(), torch.Tensor)
        assert float(deferred.pending_total()) == 3.0
        deferred.flush(5)
        _record(deferred, flags[5:], start=5)
        deferred.flush(9)
    assert deferred.state_dict() == immediate.state_dict() == {"consecutive": 2, "total": 5}
    assert deferred.pending_total() == 5.0
    assert (
        "3 steps with a non-finite loss or gradient between step 0 and step 5 (the last at "
        "step 4) were skipped (1 in a row now, 3 in total)" in caplog.text
    )
    assert (
        "2 steps with a non-finite loss or gradient between step 5 and step 9 (the last at "
        "step 8) were skipped (2 in a row now, 5 in total)" in caplog.text
    )


def test_a_run_counts_across_flushes_and_a_clean_interval_says_nothing(caplog) -> None:
    guard = NonFiniteGuard(3)
    with caplog.at_level(logging.WARNING, logger="baryir.tasks.guard"):
        _record(guard, [0, 0, 0])
        guard.flush(3)
        assert not caplog.text
        _record(guard, [0, 1, 1], start=3)
        guard.flush(6)
        with pytest.raises(NonFiniteLossError, match=r"^3 consecutive steps .*last at step 6\)"):
            _record(guard, [1, 0], start=6)
            guard.flush(8)


def test_a_run_that_ended_before_the_read_still_stops() -> None:
    guard = NonFiniteGuard(2)
    _record(guard, [1, 1, 0, 0])
    with pytest.raises(NonFiniteLossError, match="2 consecutive steps"):
        guard.flush(4)
    assert guard.consecutive == 0 and guard.total == 2


def test_loaded_counts_continue_on_the_device() -> None:
    guard = NonFiniteGuard(3)
    guard.load_state_dict({"consecutive": 2, "total": 7})
    with pytest.raises(NonFiniteLossError, match="3 consecutive"):
        _record(guard, [1], start=10)
        guard.flush(11)
    assert guard.total == 8


def test_step_unless_keeps_weights_and_state_on_a_bad_flag() -> None:
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = torch.optim.Adam([weight], lr=0.1, fused=True)
    assert skips_on_device(optimizer)
    assert not skips_on_device(torch.optim.Adam([weight], lr=0.1))
    assert not skips_on_device(torch.optim.RMSprop([weight], foreach=True))
    weight.grad = torch.tensor([0.5, 0.5])
    step_unless(optimizer, torch.tensor(False), optimizer.step)
    kept = weight.detach().clone(), {k: v.clone() for k, v in optimizer.state[weight].items()}
    weight.grad = torch.tensor([float("nan"), 1.0])
    step_unless(optimizer, torch.tensor(True), optimizer.step)
    assert torch.equal(weight, kept[0])
    assert all(torch.equal(optimizer.state[weight][k], v) for k, v in kept[1].items())
    assert not hasattr(optimizer, "found_inf")
    step_unless(optimizer, torch.tensor(False), optimizer.step)
    assert not torch.equal(weight, kept[0])
