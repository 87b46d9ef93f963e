"""The evaluation half of a restoration task: validation and test through the one
evaluation loop, with the rows logged and kept for callbacks."""

from __future__ import annotations

import math
from typing import Any

from lightning.pytorch import LightningModule
from torch import Tensor, nn

from baryir.evaluation.runner import EvaluationLoop
from baryir.metrics import EvalProtocol

__all__ = ["EvaluationTask"]


class EvaluationTask(LightningModule):
    """A LightningModule that scores :attr:`network` on every validation and test loader.

    Args:
        protocol: how images are scored (:class:`~baryir.metrics.EvalProtocol`).
        eval_tile, eval_tile_overlap: test in tiles (:func:`~baryir.inference.restore`).

    Attributes:
        protocol, evaluation: the protocol and the one evaluation loop
            (:class:`~baryir.evaluation.runner.EvaluationLoop`) that validation and test use.
    """

    network: nn.Module
    """The network that evaluates (set by the subclass)."""

    def __init__(
        self, protocol: EvalProtocol, eval_tile: int | None, eval_tile_overlap: int
    ) -> None:
        super().__init__()
        self.protocol = protocol
        self.evaluation = EvaluationLoop(protocol, eval_tile, eval_tile_overlap)
        self._eval_results: dict[str, dict[str, float]] = {}

    def forward(self, x: Tensor) -> Tensor:
        """Restore ``x`` (B, 3, H, W) in [0, 1] with :attr:`network`; same shape out."""
        return self.network(x).restored

    @property
    def eval_labels(self) -> list[str]:
        """The row label of each validation or test loader of the current (or last) evaluation,
        made unique (:func:`~baryir.data.suites.unique_labels`)."""
        return self.evaluation.labels

    @property
    def eval_results(self) -> dict[str, dict[str, float]]:
        """The last validation's or test's rows: ``{label: SetScorer.compute()}`` in loader
        order (what :class:`~baryir.tasks.callbacks.TestReport` prints)."""
        return self._eval_results

    def _start_evaluation(self, loaders: Any) -> None:
        loaders = loaders if isinstance(loaders, list | tuple) else [loaders]
        self.evaluation.start([loader.dataset for loader in loaders], self.device)

    def on_validation_epoch_start(self) -> None:
        self._start_evaluation(self.trainer.val_dataloaders)

    def on_test_epoch_start(self) -> None:
        self._start_evaluation(self.trainer.test_dataloaders)

    def validation_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> dict[str, Any]:
        """Score a batch with one forward of :attr:`network`.

        Returns:
            ``{"label": the row's label, "output": the network's RestorationOutput}`` (for
            callbacks such as :class:`~baryir.tasks.callbacks.BarycenterDivergence`).
        """
        degraded, target = self.evaluation.crop(dataloader_idx, batch)
        out = self.network(degraded)
        self.evaluation.score(dataloader_idx, batch, degraded, target, out.restored.clamp(0, 1))
        return {"label": self.eval_labels[dataloader_idx], "output": out}

    def test_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> dict[str, Any]:
        """Score a batch through the one evaluation loop
        (:meth:`~baryir.evaluation.runner.EvaluationLoop.step`: crop,
        :func:`~baryir.inference.restore` with tiling and the out-of-memory fallback, scorer).

        Returns:
            The scored batch (cropped ``"input"``/``"target"``, ``"restored"``, ``"label"``,
            each image's ``"input_psnr"`` and ``"psnr"``), for callbacks such as
            :class:`~baryir.tasks.callbacks.TestReport`.
        """
        return self.evaluation.step(self.network, dataloader_idx, batch)

    def _finish_evaluation(self, phase: str) -> None:
        """Log every set's row and the mean; keep the rows in :attr:`eval_results`."""
        results = self.evaluation.finish()
        for label, row in results.items():
            for name, value in row.items():
                self.log(f"{phase}/{label}/{name}", value, add_dataloader_idx=False, sync_dist=True)
        finite = [row for row in results.values() if math.isfinite(row["psnr"])]
        if finite:
            # a clean row restored exactly scores inf; the progress-bar mean leaves it out
            mean = {k: sum(row[k] for row in finite) / len(finite) for k in ("psnr", "ssim")}
            self.log(f"{phase}/psnr", mean["psnr"], prog_bar=True, add_dataloader_idx=False)
            self.log(f"{phase}/ssim", mean["ssim"], add_dataloader_idx=False)
        self._eval_results = results

    def on_validation_epoch_end(self) -> None:
        self._finish_evaluation("val")

    def on_test_epoch_end(self) -> None:
        self._finish_evaluation("test")
