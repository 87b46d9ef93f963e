"""The one evaluation loop of the library: restore every image of some test sets and score it.

:func:`evaluate` is what ``baryir suite``, ``baryir compare`` and the Python API
(``baryir.evaluate``) run; no Lightning ``Trainer`` is involved. Scores follow the same
:class:`~baryir.metrics.EvalProtocol` as ``baryir test`` (per-image PSNR/SSIM averaged over the
set, images centre-cropped to a multiple of 8 by default), for the restored output and for the
degraded input.
"""

from __future__ import annotations

import logging
import os
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
from baryir.metrics import EvalProtocol, per_image_psnr
from baryir.models import load_model

__all__ = [
    "ImageCallback",
    "ImageScores",
    "default_data_root",
    "evaluate",
    "load_network",
    "resolve_datasets",
]

log = logging.getLogger(__name__)

ImageCallback = Callable[[str, dict[str, Any], Tensor], None]
"""``(set label, item with cropped "input"/"target" (3, H, W), restored (3, H, W))``."""


class ImageScores:
    """An ``on_image`` hook for :func:`evaluate` that keeps each image's PSNR before and after.

    ``rows`` holds one ``(set label, image name, input PSNR, restored PSNR)`` per image, in
    dB under ``protocol`` (pass the one :func:`evaluate` scores with).

    Example:
        >>> scores = ImageScores()
        >>> clean = torch.full((3, 8, 8), 0.2)
        >>> scores("set", {"name": "a", "input": clean + 0.2, "target": clean}, clean)
        >>> scores.rows[0][:2], round(scores.rows[0][2], 2), scores.rows[0][3]
        (('set', 'a'), 13.98, inf)
    """

    def __init__(self, protocol: EvalProtocol | None = None) -> None:
        self.protocol = protocol or EvalProtocol()
        self.rows: list[tuple[str, str, float, float]] = []

    def __call__(self, label: str, item: dict[str, Any], restored: Tensor) -> None:
        target = item["target"].to(restored.device)
        degraded = item["input"].to(restored.device)
        self.rows.append(
            (
                label,
                str(item.get("name", len(self.rows))),
                float(per_image_psnr(degraded, target, self.protocol)[0]),
                float(per_image_psnr(restored, target, self.protocol)[0]),
            )
        )


def default_data_root() -> Path | None:
    """``$BARYIR_SHARED_DATA``, else ``shared/data`` beside the working directory's repo, if any."""
    env = os.environ.get("BARYIR_SHARED_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), *Path.cwd().parents):
        candidate = base.parent / "shared" / "data"
        if (base / "pyproject.toml").is_file() and candidate.is_dir():
            return candidate
    return None


def load_network(model: nn.Module | str | Path, name: str | None = None) -> nn.Module:
    """``model`` itself, or the network in a weights file (:func:`baryir.models.load_model`)."""
    return model if isinstance(model, nn.Module) else load_model(model, name)


def resolve_datasets(
    datasets: str | Dataset | Sequence[str | Dataset],
    root: str | Path | None = None,
    seed: int = 0,
    max_images: int | None = None,
) -> list[Dataset]:
    """Turn names/specs (``"CBSD68:25"``, ``"Rain100H"``, a folder) and datasets into datasets.

    Specs go through :func:`baryir.data.datasets.testsets.build_test_set` with ``root``
    (default :func:`default_data_root`) and ``seed``; datasets are used as they are.
    """
    from baryir.data.datasets.testsets import build_test_set

    items = [datasets] if isinstance(datasets, str | Dataset) else list(datasets)
    root = root if root is not None else default_data_root()
    return [
        build_test_set(item, root=root, seed=seed, max_images=max_images)
        if isinstance(item, str)
        else item
        for item in items
    ]


def _label(dataset: Dataset, index: int, taken: set[str]) -> str:
    label = str(getattr(dataset, "label", None) or f"set{index}")
    unique, count = label, 2
    while unique in taken:
        unique, count = f"{label} #{count}", count + 1
    taken.add(unique)
    return unique


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
        root: where named sets are searched (default :func:`default_data_root`).
        seed: seed of the synthetic degradations of named clean sets.
        tile, tile_overlap: tiled inference (see :func:`baryir.inference.restore`).
        device: where the model runs (default: where it is).
        on_image: called after each image (e.g. to keep examples for a picture).

    Returns:
        ``{label: {"psnr", "ssim", "input_psnr", "input_ssim", "worse", "psnr_min", "images"}}``
        (dB, SSIM in [0, 1], ``worse``: share of images whose PSNR fell below their input's,
        ``psnr_min``: the lowest restored PSNR of the set's images).

    Example:
        >>> model = create_model("baryir-tiny")
        >>> rows = evaluate(model, ["CBSD68:25"], max_images=2)  # doctest: +SKIP
        >>> rows["CBSD68 noise:25"]["psnr"]  # doctest: +SKIP
    """
    protocol = protocol or EvalProtocol()
    network = load_network(model)
    if device is not None:
        network.to(device)
    results: dict[str, dict[str, float]] = {}
    taken: set[str] = set()
    sets = resolve_datasets(datasets, root, seed)
    counts = [len(d) if max_images is None else min(len(d), max_images) for d in sets]
    progress = tqdm(total=sum(counts), desc="evaluate", unit="image", disable=None)
    for index, (dataset, count) in enumerate(zip(sets, counts, strict=True)):
        label = _label(dataset, index, taken)
        scorer = SetScorer(protocol)
        if count == 0:
            raise ValueError(f"evaluate: test set {label!r} holds no images")
        for item_index in range(count):
            progress.update()
            item = dict(dataset[item_index])
            degraded, target = scorer.crop(item["input"], item["target"], [str(item.get("name"))])
            restored = restore(network, degraded, tile=tile, tile_overlap=tile_overlap)
            scorer.update(restored[None], degraded[None], target[None])
            if on_image is not None:
                on_image(label, {**item, "input": degraded, "target": target}, restored)
        results[label] = {**scorer.compute(), "images": float(count)}
        with logging_redirect_tqdm():
            log.info("%s: %.2f dB (%d images)", label, results[label]["psnr"], count)
    progress.close()
    return results
