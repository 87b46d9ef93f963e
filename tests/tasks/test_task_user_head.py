"""A user's own encoder-decoder carrying the barycenter head (``tests/models/user_net/toy.py``,
outside ``src/``) trains with the full BaryIR objective through ``baryir fit`` by class path,
and its checkpoint loads back into the same network."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback

from baryir.cli import main
from baryir.models import load_model
from tiny_run import add_callbacks, tiny_fit_args

USER_NETS = Path(__file__).resolve().parents[1] / "models"
SPEC = {"class_path": "user_net.toy.BaryToyNet", "init_args": {"width": 8}}


class KeepTask(Callback):
    """Keeps the task the command built."""

    def on_fit_start(self, trainer, pl_module) -> None:
        self.task = pl_module


def test_user_network_with_the_head_trains_with_the_full_objective(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(USER_NETS))
    keep = KeepTask()
    add_callbacks(monkeypatch, keep)
    model = ["--model.model", SPEC["class_path"], "--model.model.init_args.width", "8"]
    assert main(tiny_fit_args(tmp_path, 3, *model, "--model.model_args", "null")) in (0, None)

    task = keep.task
    assert type(task.model).__name__ == "BaryToyNet" and task.model.has_barycenter
    assert task.objective is not None and task.wb_solver != "none"
    (metrics,) = tmp_path.glob("logs/version_*/metrics.csv")
    rows = list(csv.DictReader(metrics.open()))
    terms = {"loss", "pixel", "transport", "orthogonality", "contrast", task.wb_solver}
    for term in terms:  # every BaryIR term logged at every step, finite
        values = [float(r[f"train/{term}"]) for r in rows if r.get(f"train/{term}")]
        assert len(values) == 3 and all(math.isfinite(v) for v in values), term

    ckpt = tmp_path / "ckpt" / "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    stored = saved["hyper_parameters"]["model"]  # the class path and every constructor argument
    assert stored["class_path"] == SPEC["class_path"] and stored["init_args"]["width"] == 8
    loaded = load_model(ckpt)
    assert type(loaded).__name__ == "BaryToyNet"
    weights = saved["state_dict"].items()
    trained = {k.removeprefix("model."): v for k, v in weights if k.startswith("model.")}
    for name, value in loaded.state_dict().items():
        assert torch.equal(value, trained[name]), name
