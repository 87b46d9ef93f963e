"""The one evaluation loop: ``baryir test`` (Lightning) and ``evaluate`` give the same rows, with
unique labels and per-image scores from the scorer; the first-N-images keeper of the reports."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

import baryir
from baryir.evaluation.report import ExampleKeeper
from baryir.evaluation.runner import EvaluationLoop, ImageScores
from baryir.metrics import psnr_ssim
from baryir.tasks import RestorationTask, callbacks
from tiny_run import quiet_trainer


class Pairs(Dataset):
    """Three fixed (input, target) pairs of 20x28 (cropped to 16x24 by the protocol)."""

    label = "mine"

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(3)
        self.targets = torch.rand(3, 3, 20, 28, generator=generator)

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> dict:
        target = self.targets[index]
        return {"input": (target + 0.05).clamp(0, 1), "target": target, "name": f"p{index}"}


def test_test_step_and_evaluate_are_one_loop(tmp_path) -> None:
    torch.manual_seed(0)
    task = RestorationTask("baryir-tiny", model_args={"dim": 8}, objective=None)
    report = callbacks.TestReport(dir=str(tmp_path / "report"), images_per_set=2)
    trainer = quiet_trainer(callbacks=[report], default_root_dir=tmp_path)
    loaders = [DataLoader(Pairs(), batch_size=1), DataLoader(Pairs(), batch_size=2)]
    trainer.test(task, loaders, verbose=False)
    # duplicate labels are made unique in both, and the rows agree
    assert task.eval_labels == ["mine", "mine #2"]
    rows = baryir.evaluate(task.network, [Pairs(), Pairs()])
    assert list(task.eval_results) == list(rows) == ["mine", "mine #2"]
    for label, row in task.eval_results.items():
        for key, value in row.items():
            assert value == pytest.approx(rows[label][key], abs=1e-4), (label, key)
    # the report's captions are the scorer's per-image scores
    titles = [example[0] for example in report.keeper.examples]
    assert titles == ["mine p0", "mine p1", "mine #2 p0", "mine #2 p1"]
    for _, degraded, restored, clean, input_psnr, psnr in report.keeper.examples:
        assert degraded.shape == (3, 16, 24)
        assert input_psnr == pytest.approx(psnr_ssim(degraded, clean)[0], abs=1e-6)
        assert psnr == pytest.approx(psnr_ssim(restored, clean)[0], abs=1e-6)
    assert (tmp_path / "report" / "comparison.png").stat().st_size > 0


def test_tiled_test_step_goes_through_restore() -> None:
    torch.manual_seed(0)
    task = RestorationTask(
        "baryir-tiny", model_args={"dim": 8}, objective=None, eval_tile=16, eval_tile_overlap=4
    )
    trainer = quiet_trainer()
    trainer.test(task, DataLoader(Pairs()), verbose=False)
    tiled = baryir.evaluate(task.network, Pairs(), tile=16, tile_overlap=4)["mine"]
    whole = baryir.evaluate(task.network, Pairs())["mine"]
    assert task.eval_results["mine"]["psnr"] == pytest.approx(tiled["psnr"], abs=1e-4)
    assert tiled["psnr"] != pytest.approx(whole["psnr"], abs=1e-6)


def test_loop_hooks_get_the_scorers_image_scores() -> None:
    scores, keeper = ImageScores(), ExampleKeeper(per_set=1)
    loop = EvaluationLoop(on_image=lambda *args: (scores(*args), keeper(*args)))
    loop.start([Pairs()])
    item = Pairs()[0]
    batch = {"input": item["input"][None], "target": item["target"][None], "name": ["p0"]}
    out = loop.step(torch.nn.Identity(), 0, batch)
    assert scores.rows == [("mine", "p0", float(out["input_psnr"][0]), float(out["psnr"][0]))]
    assert scores.rows[0][2] == scores.rows[0][3] < 40  # the identity returns the input
    assert [example[0] for example in keeper.examples] == ["mine p0"]
    assert loop.finish()["mine"]["worse"] == 0.0


def test_example_keeper_keeps_the_first_images_of_each_row() -> None:
    keeper = ExampleKeeper(per_set=2)
    image = torch.zeros(3, 4, 4)
    for label in ("a", "a", "b", "a", "b"):
        item = {"input": image, "target": image, "input_psnr": 1.0, "psnr": 2.0}
        keeper(label, item, image)
    assert [example[0] for example in keeper.examples] == ["a 0", "a 1", "b 0", "b 1"]
    with pytest.raises(ValueError, match="per_set must be >= 0"):
        ExampleKeeper(per_set=-1)
