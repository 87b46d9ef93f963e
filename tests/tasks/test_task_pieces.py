"""The task's pieces from primitive settings: what a checkpoint stores rebuilds the same task;
the objective only on a network with a barycenter; the divergence callback on step outputs."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import torch

from baryir.models import create_model
from baryir.tasks import BarycenterConfig, GuardConfig, RestorationTask, ShareConfig
from baryir.tasks.callbacks import BarycenterDivergence
from baryir.tasks.guard import NoGuard

TINY = {"dim": 8}


def _primitive(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _primitive(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_primitive(v) for v in value)
    return value is None or isinstance(value, bool | int | float | str)


def _round_trip(hparams: dict) -> dict:
    """``hparams`` through ``torch.save`` and ``torch.load(weights_only=True)``."""
    buffer = io.BytesIO()
    torch.save(dict(hparams), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_pieces_are_stored_as_primitives_and_rebuild_the_task() -> None:
    task = RestorationTask(
        model="baryir-tiny",
        model_args=TINY,
        objective=BarycenterConfig(wb_solver="potentials", potentials_patch_size=16),
        guard=GuardConfig(max_nonfinite_steps=3, check="immediate"),
        grad_shares=ShareConfig(every=5, alignment_share=0.2),
    )
    assert _primitive(dict(task.hparams))
    again = RestorationTask(**_round_trip(task.hparams))
    assert again.objective.config == task.objective.config
    assert again.objective.config.potentials_patch_size == 16
    assert again.guard.max_consecutive == 3 and again.guard.mode == "immediate"
    assert again.shares.every == 5 and again.shares.balancer.target == 0.2
    assert again.state_dict().keys() == task.state_dict().keys()
    assert any(k.startswith("objective.potentials.") for k in task.state_dict())


def test_a_network_object_is_stored_by_class_path() -> None:
    network = create_model("baryir-tiny", **TINY)
    task = RestorationTask(model=network, objective=None)
    spec = task.hparams["model"]
    assert spec["class_path"] == f"{type(network).__module__}.{type(network).__qualname__}"
    again = RestorationTask(**_round_trip(task.hparams))
    assert type(again.model) is type(network)
    assert again.model.config == network.config
    with pytest.raises(ValueError, match="model_args goes with a registry name"):
        RestorationTask(model=network, model_args=TINY)


def test_objective_only_where_the_network_has_a_barycenter() -> None:
    plain = RestorationTask(model="restormer-tiny", objective=BarycenterConfig())
    assert plain.objective is None and plain.potentials is None and plain.wb_solver == "none"
    off = RestorationTask(model="baryir-tiny", model_args=TINY, objective=None, guard=None)
    assert off.objective is None and isinstance(off.guard, NoGuard)
    assert off.hparams["objective"] is None and off.hparams["guard"] is None


def test_validation_outputs_feed_the_divergence() -> None:
    callback = BarycenterDivergence()
    callback.on_validation_epoch_start(None, None)
    # two rows collapsed to two separate points: K / (K - 1) = 2 (cloud_divergence's docstring)
    for label, centre in (("a", 0.0), ("b", 1.0)):
        b = torch.full((4, 3, 2, 2), centre)
        outputs = {"label": label, "output": SimpleNamespace(barycenter=b)}
        callback.on_validation_batch_end(None, None, outputs, None, 0)
    # blur 0.05 of the spread: the entropic blur moves the value by about blur^2 (float64)
    assert callback.divergence() == pytest.approx(2.0, abs=1e-2)
    callback.on_validation_batch_end(
        None, None, {"label": "c", "output": SimpleNamespace(barycenter=None)}, None, 0
    )
    assert set(callback.clouds) == {"a", "b"}
