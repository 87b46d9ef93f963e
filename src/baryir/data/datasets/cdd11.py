"""CDD-11, the compound-degradation benchmark of OneRestore, as training sources and test sets.

```
<root>/train/clear/00001.png            clean targets
<root>/train/low_haze/00001.png         the same scene under low light + haze (same file name)
<root>/train/{low, haze, rain, snow, low_haze, low_rain, low_snow, haze_rain, haze_snow,
              low_haze_rain, low_haze_snow}/
<root>/test/...                         the same layout
```
Each degraded folder is paired with ``clear/`` by identical file name (``datasets/files.py``;
inputs without a clean image are skipped with a WARNING). The benchmark is found under a data
root by :func:`find_cdd11`: the root itself or its ``train``/``test`` folder, or a ``CDD-11``
(``CDD11``, ``CDD_11``) folder in either, whichever holds ``clear/``. Training selects the
kinds as tasks ``cdd_<kind>`` (alias ``cdd11``, ``data/degradation_tasks.py``); evaluation names
them ``CDD11:<kind>`` or ``CDD11:all`` (the 11 kinds in one set), scored like every set here (RGB
PSNR/SSIM by default). Item names are ``"<kind>/<file stem>"``, unique across the kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baryir.data.datasets.files import find_dir
from baryir.data.datasets.paired import PairedDataset
from baryir.data.degradation_tasks import CDD11_KINDS, TASKS, DegradationTask
from baryir.data.transforms import SmallImagePolicy

__all__ = [
    "CDD11_CLEAR",
    "CDD11Source",
    "cdd11_kind",
    "cdd11_dataset",
    "cdd11_test_set",
    "find_cdd11",
]

CDD11_CLEAR = "clear"
_FOLDER_NAMES: tuple[str, ...] = ("CDD-11", "CDD11", "CDD_11")


def cdd11_kind(task: DegradationTask) -> str | None:
    """The CDD-11 folder of a ``cdd_<kind>`` task (``"low_haze"``), None for other tasks."""
    kind = task.name.removeprefix("cdd_")
    return kind if task.name.startswith("cdd_") and kind in CDD11_KINDS else None


def find_cdd11(root: str | Path, split: str) -> Path:
    """The folder holding ``clear/`` and the degraded folders of ``split`` (``"train"``/``"test"``).

    Tried in order, names case-insensitive: ``root``, ``root/CDD-11``, ``root/CDD-11/<split>``
    (``CDD11`` and ``CDD_11`` also), then the same under ``root/<split>``.

    Raises:
        FileNotFoundError: none of them holds a ``clear`` folder.
    """
    root = Path(root)
    candidates: list[Path | None] = []
    for parent in (root, find_dir(root, (split,))):
        if parent is None:
            continue
        candidates.append(parent)
        for top in (find_dir(parent, (name,)) for name in _FOLDER_NAMES):
            if top is not None:
                candidates += [top, find_dir(top, (split,))]
    for candidate in candidates:
        if candidate is not None and find_dir(candidate, (CDD11_CLEAR,)) is not None:
            return candidate
    raise FileNotFoundError(
        f"CDD-11 {split} data not found under {root}: expected {CDD11_CLEAR}/ beside the "
        f"degraded folders in {root / split} or {root / 'CDD-11' / split}"
    )


class CDD11Source(PairedDataset):
    """CDD-11 pairs (see the module docstring); items are named ``"<kind>/<file stem>"``."""

    def name(self, index: int) -> str:
        """``"<kind>/<file stem>"`` of pair ``index`` (the kind is the input's folder)."""
        path = self.pairs[index][0]
        return f"{path.parent.name}/{path.stem}"

    def load(self, index: int) -> dict[str, Any]:
        return {**super().load(index), "name": self.name(index)}


def cdd11_dataset(
    folder: str | Path,
    kind: str,
    task: DegradationTask | None = None,
    patch_size: int | None = 128,
    train: bool = True,
    small: SmallImagePolicy = "pad",
    label: str | None = None,
) -> CDD11Source:
    """The pairs ``folder/<kind>/X`` and ``folder/clear/X`` (``folder`` from :func:`find_cdd11`).

    Raises:
        ValueError: ``kind`` is not a CDD-11 folder, or no valid pair.
        FileNotFoundError: a folder is missing.
    """
    if kind not in CDD11_KINDS:
        raise ValueError(f"unknown CDD-11 kind {kind!r}; valid: {', '.join(CDD11_KINDS)}, all")
    return CDD11Source.from_folder(
        folder,
        input_dir=kind,
        target_dir=CDD11_CLEAR,
        task=task,
        patch_size=patch_size,
        train=train,
        small=small,
        label=label,
    )


def cdd11_test_set(folder: str | Path, kind: str, crop: int | None = None) -> CDD11Source:
    """Test set ``CDD11:<kind>`` (label ``"CDD11 <kind>"``) or ``CDD11:all`` (the 11 kinds).

    ``folder`` holds ``clear/`` and the degraded folders (:func:`find_cdd11` with ``"test"``);
    ``crop`` is an optional central crop (None: whole images).
    """
    if kind == "all":
        parts = [cdd11_dataset(folder, k, patch_size=crop, train=False) for k in CDD11_KINDS]
        pairs = [pair for part in parts for pair in part.pairs]
        return CDD11Source(pairs, patch_size=crop, train=False, label="CDD11 all")
    return cdd11_dataset(
        folder,
        kind,
        task=TASKS.get(f"cdd_{kind}"),
        patch_size=crop,
        train=False,
        label=f"CDD11 {kind}",
    )
