"""A plain user network (its own folder, forward returns the image only) through ``baryir fit``
and ``baryir test``, then :func:`~baryir.models.load_model` and
:func:`~baryir.inference.restore`; and the adapter that gives it the restoration interface."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback

from baryir.cli import main
from baryir.inference import restore
from baryir.losses import BaryIRObjective, SinkhornAlignment
from baryir.models import DualPotentials, load_model
from baryir.models.plain import PlainNetwork, as_restoration_network, build_network
from baryir.tasks.callbacks import BarycenterDivergence
from tiny_run import TINY, add_callbacks, tiny_fit_args

USER_NET = Path(__file__).resolve().parent / "user_net"
SPEC = {"class_path": "plain_net.PlainUserNet", "init_args": {"width": 6}}


class KeepTask(Callback):
    """Keeps the task the command built."""

    def on_fit_start(self, trainer, pl_module) -> None:
        self.task = pl_module


def test_plain_network_fits_tests_loads_and_restores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.syspath_prepend(str(USER_NET))
    keep = KeepTask()
    add_callbacks(monkeypatch, keep, BarycenterDivergence())
    model = ["--model.model", SPEC["class_path"], "--model.model.init_args.width", "6"]
    args = tiny_fit_args(tmp_path, 3, *model, "--model.model_args", "null")
    assert main([*args, "--trainer.val_check_interval", "3"]) in (0, None)

    task = keep.task
    assert isinstance(task.model, PlainNetwork) and type(task.model.network).__name__ == (
        "PlainUserNet"
    )
    # no WB code on its path: no objective, potentials or alignment built, the pixel term alone
    assert task.objective is None and task.potentials is None and task.wb_solver == "none"
    wb = (BaryIRObjective, SinkhornAlignment, DualPotentials)
    assert not any(isinstance(module, wb) for module in task.modules())
    (metrics,) = tmp_path.glob("logs/version_*/metrics.csv")
    header = set(next(csv.reader(metrics.open())))
    assert {"train/loss", "train/pixel", "val/psnr"} <= header
    assert not {h for h in header if h.split("/")[-1] in ("sinkhorn", "transport", "contrast")}
    assert "val/b_divergence" not in header  # no barycenter: the callback logs nothing

    ckpt = tmp_path / "ckpt" / "last.ckpt"
    checkpoint = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert checkpoint["hyper_parameters"]["model"] == SPEC
    assert {k.split(".")[1] for k in checkpoint["state_dict"] if k.startswith("model.")} == {
        "network"
    }

    report = tmp_path / "report"
    main(
        [
            "test",
            "--config",
            str(TINY),
            "--ckpt_path",
            str(ckpt),
            "--report.dir",
            str(report),
            "--trainer.logger",
            "false",
            "--trainer.default_root_dir",
            str(tmp_path),
        ]
    )
    rows = list(csv.DictReader((report / "results.csv").open()))
    assert rows and all(5 < float(row["psnr"]) < 60 for row in rows)

    network = load_model(ckpt)
    assert isinstance(network, PlainNetwork)
    for name, value in network.state_dict().items():
        assert torch.equal(value, checkpoint["state_dict"][f"model.{name}"]), name
    image = torch.rand(3, 37, 53, generator=torch.Generator().manual_seed(0))
    restored = restore(network, image)  # odd sides: padded to the stride 2 and cropped back
    assert restored.shape == image.shape and restored.min() >= 0 and restored.max() <= 1


def test_adapter_pads_to_the_stride_and_crops_back() -> None:
    net = build_network({"class_path": "torch.nn.Identity"})
    assert isinstance(net, PlainNetwork) and net.stride == 1
    x = torch.rand(2, 3, 5, 7)
    out = net(x)
    assert torch.equal(out.restored, x) and out.barycenter is None
    assert out.source_latent.shape == (2, 0, 1, 1)

    class StrideFour(torch.nn.Module):
        stride = 4

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-2] % 4 == 0 and x.shape[-1] % 4 == 0
            return 2 * x

    out = PlainNetwork(StrideFour())(x)
    torch.testing.assert_close(out.restored, 2 * x)  # the padding is cropped off exactly
    assert as_restoration_network(net) is net


def test_adapter_errors() -> None:
    with pytest.raises(ValueError, match="class path"):
        build_network({"init_args": {}})
    with pytest.raises(ValueError, match="cannot import"):
        build_network({"class_path": "no_such_module.Net"})
    with pytest.raises(ValueError, match="not an nn.Module"):
        build_network({"class_path": "collections.OrderedDict"})
    with pytest.raises(TypeError, match="must return the restored image"):
        PlainNetwork(torch.nn.Flatten())(torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match="no init_identity"):
        PlainNetwork(torch.nn.Identity()).init_identity()
