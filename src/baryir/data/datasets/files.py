"""File discovery, cheap header checks and pairing rules shared by every source.

Pairing key of a file stem (input and target are matched on it):

- ``rain-001`` / ``norain-001`` (Rain100L/Rain13k train) -> ``001``
- ``0001_0.8_0.2`` (RESIDE/SOTS ``<id>_<A>_<beta>``) -> ``0001`` (so several hazy inputs may
  share one clean target)
- anything else -> the stem itself (GoPro, LOL, Rain100H ``N.png``, SOTS-outdoor here).

When target stems repeat across sub-folders (GoPro scenes), the key is prefixed by the file's
folder relative to the side's root.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from baryir.io.image import ImageReadError, list_images, read_image_info

__all__ = [
    "check_headers",
    "find_dir",
    "find_pairs",
    "pair_key",
    "report_skipped",
]

log = logging.getLogger(__name__)

_RAIN_PREFIX = re.compile(r"^(?:no)?rain[-_]", re.IGNORECASE)
_RESIDE_STEM = re.compile(r"^(\d+)_\d+(?:\.\d+)?_\d+(?:\.\d+)?$")


def find_dir(parent: Path, candidates: Sequence[str]) -> Path | None:
    """First existing sub-folder of ``parent`` among ``candidates`` (case-insensitive)."""
    if not parent.is_dir():
        return None
    children = {child.name.lower(): child for child in parent.iterdir() if child.is_dir()}
    for name in candidates:
        path = parent / name
        if path.is_dir():
            return path
        if name.lower() in children:
            return children[name.lower()]
    return None


def pair_key(stem: str) -> str:
    """Pairing key of a file stem (see the module docstring)."""
    match = _RESIDE_STEM.match(stem)
    if match:
        return match.group(1)
    return _RAIN_PREFIX.sub("", stem)


def _keys(files: Sequence[Path], root: Path, with_folder: bool) -> list[str]:
    keys = []
    for path in files:
        key = pair_key(path.stem)
        if with_folder:
            key = f"{path.parent.relative_to(root).as_posix()}/{key}"
        keys.append(key)
    return keys


def find_pairs(
    input_dir: str | Path, target_dir: str | Path
) -> tuple[list[tuple[Path, Path]], list[Path], list[Path]]:
    """Match input and target files by pairing key.

    Returns:
        ``(pairs, unpaired_inputs, unused_targets)``, pairs sorted by input path.
    """
    input_dir, target_dir = Path(input_dir), Path(target_dir)
    inputs = list_images(input_dir, recursive=True, allow_empty=False)
    targets = list_images(target_dir, recursive=True, allow_empty=False)
    target_stems = [pair_key(path.stem) for path in targets]
    with_folder = len(set(target_stems)) < len(target_stems)
    target_by_key: dict[str, Path] = dict(
        zip(_keys(targets, target_dir, with_folder), targets, strict=True)
    )
    pairs, unpaired = [], []
    for path, key in zip(inputs, _keys(inputs, input_dir, with_folder), strict=True):
        target = target_by_key.get(key)
        if target is None:
            unpaired.append(path)
        else:
            pairs.append((path, target))
    used = {target for _, target in pairs}
    unused = [path for path in targets if path not in used]
    return pairs, unpaired, unused


def check_headers(paths: Iterable[Path]) -> tuple[dict[Path, tuple[int, int]], list[str]]:
    """Read each file's size from its header only (``read_image_info``: cheap, no decoding).

    Sizes are as stored (before EXIF rotation).

    Returns:
        ``(sizes, problems)``: ``{path: (width, height)}`` for readable files and one
        reason line naming the file for each unreadable one.
    """
    sizes: dict[Path, tuple[int, int]] = {}
    problems: list[str] = []
    for path in paths:
        try:
            info = read_image_info(path)
        except ImageReadError as error:
            problems.append(str(error))
        else:
            sizes[path] = (info.width, info.height)
    return sizes, problems


def report_skipped(what: str, problems: Sequence[str], where: str | Path, shown: int = 5) -> None:
    """Log one WARNING with the count of skipped files and the first few reasons."""
    if not problems:
        return
    more = f" (+{len(problems) - shown} more)" if len(problems) > shown else ""
    log.warning(
        "%s: skipped %d %s: %s%s", where, len(problems), what, "; ".join(problems[:shown]), more
    )
