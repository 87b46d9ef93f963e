"""``TestReport``: write the test report when ``trainer.test`` ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from baryir.evaluation.report import (
    ExampleKeeper,
    describe_protocol,
    format_table,
    log_table,
    save_comparison_grid,
    write_tables,
)
from baryir.evaluation.runner import image_item

__all__ = ["TestReport"]


class TestReport(Callback):
    """Write the test report when ``trainer.test`` ends: the printed table, ``results.csv``,
    ``results.md`` and ``comparison.png`` (degraded | restored | clean, the first
    ``images_per_set`` images of every set), and the table to the logger.

    It reads the task through its public surface (:class:`~baryir.tasks.RestorationTask`):
    each ``test_step``'s output (the scored batch of
    :meth:`~baryir.evaluation.runner.EvaluationLoop.score`: cropped ``"input"``/``"target"``,
    ``"restored"``, ``"label"``, each image's ``"input_psnr"`` and ``"psnr"``) and, at the end,
    ``eval_results`` (one row per set) and ``protocol``. ``baryir test`` adds it
    (``--report.dir``, ``--report.images_per_set``).

    Args:
        dir: folder for the report (default: ``<checkpoint folder>/<checkpoint name>-test``,
            else ``<log dir>/test``).
        images_per_set: images per test set in the comparison picture (0: no picture).
    """

    def __init__(self, dir: str | None = None, images_per_set: int = 3) -> None:
        if images_per_set < 0:
            raise ValueError(f"TestReport: images_per_set must be >= 0, got {images_per_set}")
        self.dir = dir
        self.images_per_set = images_per_set
        self.keeper = ExampleKeeper(images_per_set)

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.keeper = ExampleKeeper(self.images_per_set)

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not trainer.is_global_zero or not isinstance(outputs, dict) or "restored" not in outputs:
            return
        for i in range(outputs["restored"].shape[0]):
            self.keeper(outputs["label"], image_item(outputs, i), outputs["restored"][i])

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        results = pl_module.eval_results
        if not trainer.is_global_zero or not results:
            return
        protocol = pl_module.protocol
        out_dir = self.report_dir(trainer)
        described = describe_protocol(protocol, str(trainer.precision))
        print(f"\nTest results ({described}):\n{format_table(results)}\n")
        csv_path, md_path = write_tables(results, out_dir)
        examples = self.keeper.examples
        grid = save_comparison_grid(examples, out_dir / "comparison.png") if examples else None
        print(f"wrote {csv_path}, {md_path}" + (f", {grid}" if grid else ""), flush=True)
        log_table(trainer.logger, results)

    def report_dir(self, trainer: Trainer) -> Path:
        """Where the report goes (see ``dir``)."""
        if self.dir:
            return Path(self.dir)
        ckpt_path = getattr(trainer, "ckpt_path", None)
        if ckpt_path:
            return Path(ckpt_path).resolve().parent / f"{Path(ckpt_path).stem}-test"
        return Path(trainer.log_dir or trainer.default_root_dir) / "test"
