"""baryir.io.checkpoint: weights_only loading, format detection, export round trips."""

from __future__ import annotations

import json
import pathlib
from pathlib import Path

import pytest
import torch
from torch import nn

from baryir.io import (
    CheckpointError,
    UnsafeCheckpointError,
    atomic_save,
    export_weights,
    load_checkpoint,
    load_weights,
)
from tiny_run import quiet_trainer


class _Payload:
    """Unpickling this would create a marker file (stands in for ``os.system``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - pickle protocol
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class _Plain:
    pass


def _state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).state_dict()


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.ones(1)}, "x": _Payload(marker)}, path)
    for loader in (load_checkpoint, load_weights):
        with pytest.raises(UnsafeCheckpointError, match="needs code") as error:
            loader(path)
        assert "\n" not in str(error.value) and str(path) in str(error.value)
        assert isinstance(error.value, ValueError)
    assert not marker.exists()


def test_custom_class_is_refused(tmp_path: Path) -> None:
    torch.save({"obj": _Plain()}, tmp_path / "c.pt")
    with pytest.raises(UnsafeCheckpointError, match="_Plain"):
        load_checkpoint(tmp_path / "c.pt")


def test_missing_corrupt_and_unknown(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_weights(tmp_path / "bad.pt")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage garbage garbage")
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        load_weights(tmp_path / "bad.safetensors")
    (tmp_path / "w.npz").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="unsupported"):
        load_weights(tmp_path / "w.npz")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a dict"):
        load_checkpoint(tmp_path / "list.pt")
    torch.save({"epoch": 3}, tmp_path / "nosd.pt")
    with pytest.raises(CheckpointError, match="no state dict"):
        load_weights(tmp_path / "nosd.pt")


def test_lightning_ckpt_strips_model_prefix_and_reads_config(tmp_path: Path) -> None:
    weights = _state_dict()
    checkpoint = {
        "state_dict": {
            **{f"model.{k}": v for k, v in weights.items()},
            "potentials.net.weight": torch.ones(2),
        },
        "hyper_parameters": {"model": "baryir-tiny", "model_args": {"dim": 16}, "lr": 2e-4},
        "epoch": 3,
    }
    torch.save(checkpoint, tmp_path / "last.ckpt")
    state_dict, config = load_weights(tmp_path / "last.ckpt")
    _assert_same(state_dict, weights)
    assert config == {"model": "baryir-tiny", "config": {"dim": 16}}


def test_real_lightning_checkpoint(tmp_path: Path) -> None:
    import lightning as L

    class Task(L.LightningModule):
        def __init__(self, model: str = "tiny", model_args: dict | None = None) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.model = nn.Conv2d(3, 3, 1)

        def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
            return self.model(batch[0]).mean()

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.rand(2, 3, 4, 4)))
    trainer = quiet_trainer(max_steps=1, default_root_dir=tmp_path)
    task = Task(model_args={"dim": 4})
    trainer.fit(task, data)
    trainer.save_checkpoint(tmp_path / "real.ckpt")
    state_dict, config = load_weights(tmp_path / "real.ckpt")
    _assert_same(state_dict, task.model.state_dict())
    assert config == {"model": "tiny", "config": {"dim": 4}}


@pytest.mark.parametrize("wrap", ["raw", "params", "params_ema", "module", "state_dict"])
def test_pth_layouts(tmp_path: Path, wrap: str) -> None:
    weights = _state_dict()
    content = {
        "raw": weights,
        "params": {"params": weights, "iter": 5},
        "params_ema": {"params_ema": weights},
        "module": {f"module.{k}": v for k, v in weights.items()},
        "state_dict": {"state_dict": weights, "epoch": 1},
    }[wrap]
    torch.save(content, tmp_path / "w.pth")
    state_dict, config = load_weights(tmp_path / "w.pth")
    _assert_same(state_dict, weights)
    assert config is None


def test_export_roundtrip_with_sidecar_and_metadata(tmp_path: Path) -> None:
    weights = _state_dict()
    weights["tied"] = weights["0.weight"]  # shares storage: safetensors needs a copy
    path = tmp_path / "out" / "baryir-tiny.safetensors"
    export_weights(weights, path, "baryir-tiny", {"dim": 16, "blocks": [1, 2]})
    sidecar = path.with_suffix(".json")
    assert json.loads(sidecar.read_text()) == {
        "model": "baryir-tiny",
        "config": {"blocks": [1, 2], "dim": 16},
    }
    state_dict, config = load_weights(path)
    _assert_same(state_dict, weights)
    assert config == {"model": "baryir-tiny", "config": {"blocks": [1, 2], "dim": 16}}

    sidecar.unlink()  # the header metadata still says
    assert load_weights(path)[1] == config
    other = {"model": "x", "config": {}}
    path.with_name(path.name + ".json").write_text(json.dumps(other))
    assert load_weights(path)[1] == other
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "baryir-tiny.safetensors",
        "baryir-tiny.safetensors.json",
    ]


def test_export_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="safetensors"):
        export_weights(_state_dict(), tmp_path / "w.pt", "m", {})
    with pytest.raises(ValueError, match="JSON"):
        export_weights(_state_dict(), tmp_path / "w.safetensors", "m", {"f": object()})
    assert list(tmp_path.iterdir()) == []


def test_atomic_save(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.pt"
    atomic_save({"w": torch.arange(3)}, path)
    torch.testing.assert_close(load_checkpoint(path)["w"], torch.arange(3))
    with pytest.raises(Exception):  # noqa: B017 - whatever pickle raises for a lambda
        atomic_save({"f": lambda: 0}, path)
    torch.testing.assert_close(load_checkpoint(path)["w"], torch.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["state.pt"]
