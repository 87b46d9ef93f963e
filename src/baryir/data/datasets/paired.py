"""Paired folders: a degraded input folder and a clean target folder, matched by file stem.

The pairing rules (``rain-001``/``norain-001``, SOTS ``0001_0.8_0.2``/``0001``, equal stems,
GoPro-style scene sub-folders) are in ``baryir.data.datasets.files``. At construction every pair
is checked cheaply (PIL header only): inputs without a target, pairs of different sizes and files
whose header cannot be read are skipped and counted in one WARNING naming the first files; no
valid pair at all is an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.files import check_headers, find_dir, find_pairs, report_skipped
from baryir.data.degradation_tasks import DegradationTask
from baryir.data.transforms import PairedRandomCrop, SmallImagePolicy, center_crop
from baryir.io.image import ImageReadError, read_image

__all__ = ["INPUT_DIR_NAMES", "TARGET_DIR_NAMES", "PairedDataset", "validate_pairs"]

log = logging.getLogger(__name__)

INPUT_DIR_NAMES: tuple[str, ...] = (
    "input",
    "rainy",
    "low",
    "blur",
    "synthetic",
    "degraded",
    "hazy",
    "noisy",
    "lq",
    "inp",
)
TARGET_DIR_NAMES: tuple[str, ...] = (
    "target",
    "gt",
    "high",
    "sharp",
    "original",
    "clean",
    "groundtruth",
    "norain",
    "hq",
    "tar",
)


def validate_pairs(
    pairs: Sequence[tuple[Path, Path]], where: str | Path
) -> list[tuple[Path, Path]]:
    """Keep the pairs whose headers read and whose sizes match; log a WARNING for the rest."""
    files = {path for pair in pairs for path in pair}
    sizes, problems = check_headers(sorted(files))
    report_skipped("unreadable images", problems, where)
    good, mismatched = [], []
    for source, target in pairs:
        if source not in sizes or target not in sizes:
            continue
        if sizes[source] != sizes[target]:
            mismatched.append(
                f"{source} {sizes[source][0]}x{sizes[source][1]} vs "
                f"{target} {sizes[target][0]}x{sizes[target][1]}"
            )
        else:
            good.append((source, target))
    report_skipped("pairs of different sizes", mismatched, where)
    return good


class PairedDataset(DegradationDataset):
    """Real (or pre-made) degraded/clean pairs.

    Args:
        pairs: ``(input_path, target_path)`` list (use ``from_folder`` to find and check them).
        degradation_id: fine id written in every item.
        source_id: source index written in every item.
        patch_size: training crop side; in evaluation an optional central crop (None: whole).
        train: random paired crop + dihedral mode when True.
        small: policy for images smaller than the patch (``"pad"`` or ``"upscale"``).
        label: display name.
        task: task name, for summaries.
    """

    def __init__(
        self,
        pairs: Sequence[tuple[Path, Path]],
        degradation_id: int = -1,
        source_id: int = -1,
        patch_size: int | None = 128,
        train: bool = True,
        small: SmallImagePolicy = "pad",
        label: str = "paired",
        task: str | None = None,
    ) -> None:
        if not pairs:
            raise ValueError(f"PairedDataset {label!r} got no pairs")
        if train and patch_size is None:
            raise ValueError("a training source needs a patch_size")
        self.pairs = list(pairs)
        self.degradation_id = degradation_id
        self.source_id = source_id
        self.patch_size = patch_size
        self.train = train
        self.label = label
        self.task = task
        self.image_count = len(self.pairs)
        self.crop = PairedRandomCrop(patch_size, small=small) if train and patch_size else None

    @classmethod
    def from_folder(
        cls,
        root: str | Path,
        input_dir: str | None = None,
        target_dir: str | None = None,
        task: DegradationTask | None = None,
        patch_size: int | None = 128,
        train: bool = True,
        small: SmallImagePolicy = "pad",
        label: str | None = None,
    ) -> PairedDataset:
        """Pairs of ``root/<input_dir>`` and ``root/<target_dir>``.

        ``input_dir``/``target_dir`` default to the first existing folder among
        ``INPUT_DIR_NAMES`` / ``TARGET_DIR_NAMES`` (input/target, rainy/gt, low/high,
        blur/sharp, synthetic/original, degraded/target, ...).

        Raises:
            FileNotFoundError: ``root`` or one side is missing. ValueError: no valid pair.
        """
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"paired data folder not found: {root}")
        sides = []
        for given, names, what in (
            (input_dir, INPUT_DIR_NAMES, "input"),
            (target_dir, TARGET_DIR_NAMES, "target"),
        ):
            folder = find_dir(root, (given,) if given else names)
            if folder is None:
                expected = given or "/".join(names)
                raise FileNotFoundError(f"{what} folder not found in {root} (expected {expected})")
            sides.append(folder)
        pairs, unpaired, unused = find_pairs(*sides)
        report_skipped(
            "inputs without a target",
            [f"{path}: no target in {sides[1]}" for path in unpaired],
            root,
        )
        if unused:
            log.info("%s: %d targets have no input (ignored)", root, len(unused))
        good = validate_pairs(pairs, root)
        if not good:
            raise ValueError(
                f"no valid input/target pair in {sides[0]} and {sides[1]} "
                f"({len(unpaired)} unpaired, {len(pairs) - len(good)} invalid)"
            )
        return cls(
            good,
            degradation_id=task.fine_id if task else -1,
            source_id=task.source if task else -1,
            patch_size=patch_size,
            train=train,
            small=small,
            label=label or (task.name if task else root.name),
            task=task.name if task else None,
        )

    def __len__(self) -> int:
        return len(self.pairs)

    def name(self, index: int) -> str:
        """Stem of the input file of pair ``index``."""
        return self.pairs[index][0].stem

    def load(self, index: int) -> dict[str, Any]:
        source_path, target_path = self.pairs[index]
        degraded, clean = read_image(source_path), read_image(target_path)
        if degraded.shape != clean.shape:
            raise ImageReadError(
                f"{source_path} {tuple(degraded.shape)} and {target_path} "
                f"{tuple(clean.shape)} differ in size after decoding"
            )
        if self.crop is not None:
            degraded, clean = self.crop(degraded, clean)
        elif self.patch_size:
            degraded = center_crop(degraded, self.patch_size).contiguous()
            clean = center_crop(clean, self.patch_size).contiguous()
        return {
            "input": degraded,
            "target": clean,
            "degradation": self.degradation_id,
            "source": self.source_id,
            "name": source_path.stem,
        }
