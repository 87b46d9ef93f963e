"""Whole pickled modules (the authors' release format) load as state dicts, running no code."""

from __future__ import annotations

import builtins
import copy
import os
import pathlib
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from torch import nn

from baryir.io.checkpoint import UnsafeCheckpointError, load_weights
from baryir.io.module_pickle import read_module_checkpoint
from baryir.models import load_model


class Authors(nn.Module):
    """A module of "the authors' code": parameters, buffers (one non-persistent), a None bias,
    a tied weight, a function attribute, torch layers with buffers (BatchNorm)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)
        self.norm = nn.BatchNorm2d(4)
        self.body = nn.Sequential(nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 2))
        self.tied = self.body[0]
        self.scale = nn.Parameter(torch.full((1,), 2.5))
        self.register_buffer("table", torch.arange(6.0))
        self.register_buffer("scratch", torch.ones(3), persistent=False)
        self.register_parameter("unused", None)
        self.act = torch.nn.functional.gelu


def save_as_authors(obj: object, path: Path) -> Path:
    """``torch.save(obj)``, :class:`Authors` importable as ``model_bary.Authors`` meanwhile only."""
    module = types.ModuleType("model_bary")
    Authors.__module__, module.Authors = "model_bary", Authors
    sys.modules["model_bary"] = module
    try:
        torch.save(obj, path)
    finally:
        del sys.modules["model_bary"]
        Authors.__module__ = __name__
    return path


@pytest.fixture()
def net() -> Authors:
    torch.manual_seed(0)
    model = Authors()
    model.norm.running_mean.uniform_()
    model.norm.num_batches_tracked.fill_(7)
    return model


def test_state_dict_equals_the_modules(net: Authors, tmp_path: Path) -> None:
    pots = nn.ModuleList([nn.Linear(2, 3)])
    path = save_as_authors({"epoch": 4, "BaryIR": net, "Pots": pots}, tmp_path / "m.pt")
    with pytest.raises(ModuleNotFoundError, match="model_bary"):  # the authors' code is absent
        torch.load(path, weights_only=False)
    found = read_module_checkpoint(path)
    assert found is not None and sorted(found) == ["BaryIR", "Pots"]
    assert found.classes == {
        "BaryIR": "model_bary.Authors",
        "Pots": "torch.nn.modules.container.ModuleList",
    }
    for entry, module in (("BaryIR", net), ("Pots", pots)):
        expected = module.state_dict()
        assert list(found[entry]) == list(expected)  # same names, same order
        for name, tensor in expected.items():
            assert torch.equal(found[entry][name], tensor) and not found[entry][name].requires_grad
    assert "scratch" not in found["BaryIR"] and "unused" not in found["BaryIR"]
    assert found["BaryIR"]["tied.weight"].data_ptr() == found["BaryIR"]["body.0.weight"].data_ptr()


def test_load_weights_merges_network_and_potentials(net: Authors, tmp_path: Path) -> None:
    pots = nn.ModuleList([nn.Linear(2, 3)])
    path = save_as_authors({"epoch": 4, "BaryIR": net, "Pots": pots}, tmp_path / "m.pth")
    state_dict, config = load_weights(path)
    assert config is None
    assert set(state_dict) == set(net.state_dict()) | {"0.weight", "0.bias"}
    alone = save_as_authors(net, tmp_path / "alone.pt")  # torch.save(net): the module itself
    assert list(load_weights(alone)[0]) == list(net.state_dict())
    wrapped = save_as_authors({"model": nn.DataParallel(net)}, tmp_path / "dp.pt")
    assert list(load_weights(wrapped)[0]) == list(net.state_dict())  # "module." stripped


def test_clashing_entries_are_an_error(net: Authors, tmp_path: Path) -> None:
    path = save_as_authors({"a": net, "b": copy.deepcopy(net)}, tmp_path / "two.pt")
    with pytest.raises(ValueError, match="share parameter names"):
        load_weights(path)


class _System:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (os.system, (f"touch {self.marker}",))


class _Exec(_System):
    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",))


class _Subprocess(_System):
    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (subprocess.run, (["touch", str(self.marker)],))


class _Touch(_System):
    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class _AuthorsCall(_System):
    """A ``__reduce__`` naming one of the file's own classes: called, so code would run."""

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (Authors, ())


@pytest.mark.parametrize("payload", [_System, _Exec, _Subprocess, _Touch, _AuthorsCall])
@pytest.mark.parametrize("where", ["beside", "inside"])
def test_hostile_pickles_load_nothing_and_run_nothing(
    net: Authors, payload: type, where: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    if where == "inside":  # hidden in the module tree, as an attribute
        net.hook = payload(marker)
        obj = {"BaryIR": net}
    else:
        obj = {"BaryIR": net, "Pots": payload(marker)}
    path = save_as_authors(obj, tmp_path / "evil.pt")
    with pytest.raises(UnsafeCheckpointError, match="refusing to load"):
        load_weights(path)
    with pytest.raises(UnsafeCheckpointError):
        load_model(path, name="baryir-tiny")
    assert not marker.exists()
    if payload is not _AuthorsCall:  # the payload is live: plain torch.load runs it
        torch.save({"x": payload(marker)}, tmp_path / "live.pt")
        torch.load(tmp_path / "live.pt", weights_only=False)
        assert marker.exists()


def test_files_without_modules_keep_the_refusal(tmp_path: Path) -> None:
    path = save_as_authors({"state_dict": {"w": torch.ones(1)}, "x": Authors}, tmp_path / "c.pt")
    with pytest.raises(UnsafeCheckpointError, match="needs code to unpickle"):
        load_weights(path)
    assert read_module_checkpoint(path) is None
