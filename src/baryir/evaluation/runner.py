"""The one evaluation loop of the library: restore every image of some test sets and score it.

:class:`EvaluationLoop` is what every image goes through, wherever it is evaluated: the row
labels (made unique by :func:`~baryir.data.suites.unique_labels`), the protocol's crop,
:func:`baryir.inference.restore` (tiling and the out-of-memory fallback), the row's
:class:`~baryir.evaluation.scorer.SetScorer` (which also gives each image's scores) and the
``on_image`` hooks. :func:`evaluate` drives it over datasets without a Lightning ``Trainer``
(``baryir suite``, ``baryir compare``, the study and the Python API ``baryir.evaluate``);
``RestorationTask`` drives it from Lightning's test loop (``baryir test``). Scores follow one
:class:`~baryir.metrics.EvalProtocol` (per-image PSNR/SSIM averaged over the set, images
centre-cropped to a multiple of 8 by default), for the restored output and the degraded input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from baryir.evaluation.scorer import SetScorer
from baryir.inference import restore
from baryir.metrics import EvalProtocol
from baryir.models import load_model

__all__ = [
    "EvaluationLoop",
    "ImageCallback",
    "ImageScores",
    "evaluate",
    "load_network",
    "resolve_datasets",
]

log = logging.getLogger(__name__)

ImageCallback = Callable[[str, dict[str, Any], Tensor], None]
"""``(set label, item, restored (3, H, W))``: the item holds the cropped ``"input"`` and
``"target"`` (3, H, W), ``"name"`` and the scorer's ``"input_psnr"`` and ``"psnr"`` (dB)."""


class ImageScores:
    """An ``on_image`` hook that keeps each image's PSNR before and after, as scored.

    ``rows`` holds one ``(set label, image name, input PSNR, restored PSNR)`` per image, in
    dB: the scores :class:`~baryir.evaluation.scorer.SetScorer` gave the image.

    Example:
        >>> scores = ImageScores()
        >>> scores("set", {"name": "a", "input_psnr": 13.98, "psnr": float("inf")}, None)
        >>> scores.rows
        [('set', 'a', 13.98, inf)]
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, float]] = []

    def __call__(self, label: str, item: dict[str, Any], restored: Tensor | None) -> None:
        name = str(item.get("name", len(self.rows)))
        self.rows.append((label, name, float(item["input_psnr"]), float(item["psnr"])))


class EvaluationLoop:
    """The steps every evaluated image goes through; one scorer per row.

    Call :meth:`start` with the rows' datasets, then :meth:`step` on each batch of row
    ``index`` (or :meth:`crop`, a forward of one's own and :meth:`score`), then :meth:`finish`.

    Args:
        protocol: how images are scored (default: the paper's), where a row's dataset carries
            no ``protocol`` of its own (a suite's rows carry their suite's).
        tile, tile_overlap: tiled inference (see :func:`baryir.inference.restore`).
        on_image: called after each image with ``(label, item, restored)`` (:data:`ImageCallback`).
    """

    def __init__(
        self,
        protocol: EvalProtocol | None = None,
        tile: int | None = None,
        tile_overlap: int = 32,
        on_image: ImageCallback | None = None,
    ) -> None:
        self.protocol = protocol or EvalProtocol()
        self.tile = tile
        self.tile_overlap = tile_overlap
        self.on_image = on_image
        self.labels: list[str] = []
        self.scorers = nn.ModuleList()

    def start(self, datasets: Sequence[Any], device: torch.device | str | None = None) -> None:
        """Begin an evaluation of ``datasets`` (labelled by their ``label``, made unique; each
        scored by :meth:`row_protocol`)."""
        from baryir.data.suites import unique_labels

        self.labels = unique_labels(
            [getattr(dataset, "label", None) or f"set{i}" for i, dataset in enumerate(datasets)]
        )
        self.scorers = nn.ModuleList(SetScorer(self.row_protocol(d)) for d in datasets)
        if device is not None:
            self.scorers.to(device)

    def row_protocol(self, dataset: Any) -> EvalProtocol:
        """How a row is scored: its dataset's ``protocol`` (a suite's rows carry their suite's,
        :mod:`baryir.data.suites`), else the loop's."""
        return getattr(dataset, "protocol", None) or self.protocol

    def crop(self, index: int, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
        """The batch's ``(input, target)`` ``(B, 3, H, W)`` cropped as the protocol says."""
        names = batch.get("name", ())
        names = [names] if isinstance(names, str) else [str(name) for name in names]
        return self.scorers[index].crop(batch["input"], batch["target"], names)

    def step(self, network: nn.Module, index: int, batch: dict[str, Any]) -> dict[str, Any]:
        """Crop, restore (:func:`baryir.inference.restore`) and score a batch of row ``index``;
        returns what :meth:`score` returns."""
        degraded, target = self.crop(index, batch)
        restored = restore(network, degraded, tile=self.tile, tile_overlap=self.tile_overlap)
        return self.score(index, batch, degraded, target, restored)

    def score(
        self,
        index: int,
        batch: dict[str, Any],
        degraded: Tensor,
        target: Tensor,
        restored: Tensor,
    ) -> dict[str, Any]:
        """Score a cropped batch and call the hooks.

        Returns:
            The batch with the cropped ``"input"``/``"target"``, ``"restored"``, its row's
            ``"label"`` and each image's ``"input_psnr"`` and ``"psnr"`` ``(B,)`` (dB).
        """
        input_psnr, psnr = self.scorers[index].update(restored, degraded, target)
        label = self.labels[index]
        out = {**batch, "input": degraded, "target": target, "restored": restored}
        out |= {"label": label, "input_psnr": input_psnr, "psnr": psnr}
        if self.on_image is not None:
            for i in range(restored.shape[0]):
                self.on_image(label, image_item(out, i), restored[i])
        return out

    def finish(self) -> dict[str, dict[str, float]]:
        """Every row's scores (:meth:`SetScorer.compute`), by label; the scorers are reset."""
        results = {}
        for label, scorer in zip(self.labels, self.scorers, strict=True):
            results[label] = scorer.compute()
            scorer.reset()
        return results


def image_item(batch: dict[str, Any], index: int) -> dict[str, Any]:
    """Image ``index`` of a scored batch (:meth:`EvaluationLoop.score`): every per-image value
    (tensor rows, list entries) taken at ``index``; the label and other values as they are."""
    size = batch["restored"].shape[0]
    item = {}
    for key, value in batch.items():
        if isinstance(value, Tensor) and value.ndim > 0 and value.shape[0] == size:
            value = value[index]
            item[key] = float(value) if value.ndim == 0 and value.is_floating_point() else value
        elif isinstance(value, list | tuple) and len(value) == size:
            item[key] = value[index]
        else:
            item[key] = value
    return item


def load_network(model: nn.Module | str | Path, name: str | None = None) -> nn.Module:
    """``model`` itself, or the network in a weights file (:func:`baryir.models.load_model`)."""
    return model if isinstance(model, nn.Module) else load_model(model, name)


def resolve_datasets(
    datasets: str | Dataset | Sequence[str | Dataset],
    root: str | Path | None = None,
    seed: int = 0,
    max_images: int | None = None,
) -> list[Dataset]:
    """Turn row specs and datasets into datasets.

    A spec is a row of :mod:`baryir.specs`: a test set (``"CBSD68:25"``, ``"Rain100H"``, a
    folder path; with ``seed``) or a suite (``"suite:ood"``, a suite ``.yaml``: all its rows,
    with the suite's protocol), built by :func:`baryir.data.suites.build_rows`
    with ``root`` (default :func:`~baryir.data.datasets.testsets.default_data_root`); datasets
    are used as they are.
    """
    from baryir.data.datasets.testsets import default_data_root
    from baryir.data.suites import build_rows

    items = [datasets] if isinstance(datasets, str | Dataset) else list(datasets)
    root = root if root is not None else default_data_root()
    resolved: list[Dataset] = []
    for item in items:
        if isinstance(item, str):
            resolved += build_rows([item], root, seed, max_images)
        else:
            resolved.append(item)
    return resolved


def evaluate(
    model: nn.Module | str | Path,
    datasets: str | Dataset | Sequence[str | Dataset],
    protocol: EvalProtocol | None = None,
    max_images: int | None = None,
    root: str | Path | None = None,
    seed: int = 0,
    tile: int | None = None,
    tile_overlap: int = 32,
    device: torch.device | str | None = None,
    on_image: ImageCallback | None = None,
) -> dict[str, dict[str, float]]:
    """Restore and score every image of ``datasets``; one row per set.

    Args:
        model: a network, or a path to a checkpoint/exported weights that names its network.
        datasets: a test set spec/name (``"CBSD68:25"``, ``"Rain100H"``, a paired folder), a
            dataset whose items hold ``"input"``, ``"target"`` ``(3, H, W)`` and ``"name"``, or a
            list of them. Rows are labelled by the dataset's ``label`` attribute.
        protocol: scoring protocol (default: the paper's, :class:`EvalProtocol`).
        max_images: score only the first ``max_images`` items of each set.
        root: where named sets are searched (default: ``$BARYIR_DATA``).
        seed: seed of the synthetic degradations of named clean sets.
        tile, tile_overlap: tiled inference (see :func:`baryir.inference.restore`).
        device: where the model runs (default: where it is).
        on_image: called after each image (e.g. to keep examples for a picture), with the
            scorer's scores of the image (:data:`ImageCallback`).

    Returns:
        ``{label: {"psnr", "ssim", "input_psnr", "input_ssim", "worse", "psnr_min", "images"}}``
        (dB, SSIM in [0, 1], ``worse``: share of images whose PSNR fell below their input's,
        ``psnr_min``: the lowest restored PSNR of the set's images).

    Example:
        >>> model = create_model("baryir-tiny")
        >>> rows = evaluate(model, ["CBSD68:25"], max_images=2)  # doctest: +SKIP
        >>> rows["CBSD68 noise:25"]["psnr"]  # doctest: +SKIP
    """
    network = load_network(model)
    if device is not None:
        network.to(device)
    sets = resolve_datasets(datasets, root, seed)
    loop = EvaluationLoop(protocol, tile, tile_overlap, on_image)
    loop.start(sets)
    counts = [len(d) if max_images is None else min(len(d), max_images) for d in sets]
    empty = [label for label, count in zip(loop.labels, counts, strict=True) if count == 0]
    if empty:
        raise ValueError(f"evaluate: test set {empty[0]!r} holds no images")
    results: dict[str, dict[str, float]] = {}
    progress = tqdm(total=sum(counts), desc="evaluate", unit="image", disable=None)
    for index, (dataset, count) in enumerate(zip(sets, counts, strict=True)):
        for item_index in range(count):
            progress.update()
            item = dict(dataset[item_index])
            batch = {**item, "input": item["input"][None], "target": item["target"][None]}
            if "name" in item:
                batch["name"] = [item["name"]]
            loop.step(network, index, batch)
        label = loop.labels[index]
        results[label] = {**loop.scorers[index].compute(), "images": float(count)}
        with logging_redirect_tqdm():
            log.info("%s: %.2f dB (%d images)", label, results[label]["psnr"], count)
    progress.close()
    return results
