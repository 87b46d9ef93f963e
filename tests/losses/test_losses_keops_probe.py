"""A KeOps install that crashes on CUDA falls back to the tensorized backend, never kills a run."""

from __future__ import annotations

import subprocess

import pytest
import torch

from baryir.losses import sinkhorn


@pytest.fixture(autouse=True)
def _fresh_probe():
    sinkhorn._keops_works.cache_clear()
    yield
    sinkhorn._keops_works.cache_clear()


def fake_run(returncode: int, stdout: str):
    def run(*args, **kwargs):
        return subprocess.CompletedProcess(args[0], returncode, stdout, "Segmentation fault")

    return run


def test_crashing_keops_falls_back_to_tensorized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinkhorn.subprocess, "run", fake_run(-11, ""))
    assert sinkhorn.resolve_backend("auto", torch.device("cuda")) == "tensorized"


def test_working_keops_gives_online_on_cuda_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinkhorn.subprocess, "run", fake_run(0, "keops-ok\n"))
    assert sinkhorn.resolve_backend("auto", torch.device("cuda")) == "online"
    assert sinkhorn.resolve_backend("auto", torch.device("cpu")) == "tensorized"


def test_probe_timeout_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def timeout(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], 1)

    monkeypatch.setattr(sinkhorn.subprocess, "run", timeout)
    assert sinkhorn.resolve_backend("auto", torch.device("cuda")) == "tensorized"
