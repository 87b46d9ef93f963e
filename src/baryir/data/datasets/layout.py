"""The paper's folder layout (BARYIR.md section 5) as a list of training sources.

```
<root>/Train/Denoise/                    clean images (noise added on the fly, per sigma task)
<root>/Train/Derain/{rainy,gt}/          rain-001.png / norain-001.png
<root>/Train/Dehaze/{synthetic,original}/ 0001_0.8_0.2.jpg / 0001.jpg (sub-folders part1..4 ok)
<root>/Train/Deblur/{blur,sharp}/        same names
<root>/Train/lowlight/{low,high}/        same names (low_light also accepted)
```
The optional ``clean`` task (input = target) reads the clean images of ``Train/Denoise``.
The CDD-11 tasks (``cdd_<kind>``, alias ``cdd11``) read the OneRestore layout instead,
``<root>/train/{clear,<kind>}/`` (or ``<root>/Train/CDD-11/...``; ``datasets/cdd11.py``), so
``root`` may be a CDD-11 download as it is.
``root`` may be the folder holding ``Train/`` or ``Train/`` itself; names are case-insensitive.
A per-task folder override (``folders={"derain": "/data/Rain13k"}``) replaces the layout
entry: a clean folder for synthetic tasks (noise), a paired folder otherwise. An override may
take a slice of the files (``"/data/Rain100H[0:70]"``: pairs 1..70 in natural name order) and a
synthetic degradation of a clean folder for any task (``"haze@/data/CBSD432"``); see
``datasets/subset.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.cdd11 import cdd11_dataset, cdd11_kind, find_cdd11
from baryir.data.datasets.files import find_dir
from baryir.data.datasets.paired import PairedDataset
from baryir.data.datasets.subset import take_subset
from baryir.data.datasets.synthetic import SyntheticDataset
from baryir.data.degradation_tasks import DegradationTask
from baryir.data.transforms import SmallImagePolicy
from baryir.specs import parse_folder, subset_text

__all__ = ["LAYOUT_FOLDERS", "layout_datasets", "train_root"]

LAYOUT_FOLDERS: dict[str, tuple[str, ...]] = {
    "noise": ("Denoise", "denoising", "noise"),
    "rain": ("Derain", "deraining", "rain"),
    "haze": ("Dehaze", "dehazing", "haze"),
    "blur": ("Deblur", "deblurring", "blur"),
    "lowlight": ("lowlight", "low_light", "low-light", "LOL"),
    "clean": ("Denoise", "denoising", "noise"),
}


def train_root(root: str | Path) -> Path:
    """``root/Train`` if it exists, else ``root`` itself (which must exist)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root not found: {root}")
    return find_dir(root, ("Train", "train")) or root


def layout_datasets(
    root: str | Path | None,
    tasks: Sequence[DegradationTask],
    patch_size: int = 128,
    small: SmallImagePolicy = "pad",
    folders: Mapping[str, str] | None = None,
) -> list[DegradationDataset]:
    """One training source per task, from the layout under ``root`` (or ``folders``).

    Raises:
        FileNotFoundError: a task's folder is missing (names the expected path).
    """
    folders = dict(folders or {})
    base = train_root(root) if root is not None else None
    sources: list[DegradationDataset] = []
    clean_images: dict[tuple[Path, str], list] = {}
    for task in tasks:
        override = folders.get(task.name, folders.get(task.source_name))
        degradation, subset = None, None
        kind = cdd11_kind(task)
        if override is not None:
            parsed = parse_folder(str(override))
            degradation, folder, subset = parsed.degradation, parsed.folder, parsed.subset
        elif root is not None and kind is not None:
            folder = find_cdd11(root, "train")
        elif base is not None:
            names = LAYOUT_FOLDERS[task.source_name]
            found = find_dir(base, names)
            if found is None:
                raise FileNotFoundError(
                    f"no folder for task {task.name} in {base} (expected one of {', '.join(names)})"
                )
            folder = found
        else:
            raise ValueError(f"task {task.name} needs a data root or a folder override")
        if task.paired and degradation is None:
            source = (
                cdd11_dataset(folder, kind, task=task, patch_size=patch_size, small=small)
                if kind is not None
                else PairedDataset.from_folder(
                    folder, task=task, patch_size=patch_size, small=small
                )
            )
            sources.append(take_subset(source, subset, str(override)) if subset else source)
            continue
        spec = degradation or task.synthetic
        key = (folder, subset_text(subset) if subset else "")
        if key in clean_images:
            sources.append(
                SyntheticDataset(
                    clean_images[key],
                    spec,
                    degradation_id=task.fine_id,
                    source_id=task.source,
                    patch_size=patch_size,
                    small=small,
                    label=task.name,
                    task=task.name,
                )
            )
            continue
        source = SyntheticDataset.from_folder(
            folder, spec, task=task, patch_size=patch_size, small=small, label=task.name
        )
        if subset is not None:
            take_subset(source, subset, str(override))
        clean_images[key] = source.images
        sources.append(source)
    return sources
