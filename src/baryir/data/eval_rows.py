"""The data module's default validation and test rows (when ``data.val_sets`` or
``data.test_sets`` is not given): each training task's test set, then the "do no harm" rows.

With a data root, each task is scored on its standard set (:data:`DEFAULT_EVAL_SETS`: a row of
the one spec grammar, :mod:`baryir.specs`), found under the root (a missing one is skipped
with a WARNING), and the do-no-harm suite's degradations (:data:`DO_NO_HARM_SUITE`) degrade
its first clean set (CBSD68). Without a root, the bundled validation photos stand in for both.
These rows are the data module's own, not a suite's: they are scored by the task's protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.bundled import bundled_dataset, bundled_eval_dataset
from baryir.data.datasets.testsets import build_test_set
from baryir.data.degradation_tasks import DegradationTask
from baryir.data.suites import degraded_row, load_suite

__all__ = ["DEFAULT_EVAL_SETS", "DO_NO_HARM_SUITE", "default_rows"]

log = logging.getLogger(__name__)

DO_NO_HARM_SUITE = "do-no-harm"
"""The suite (:func:`baryir.data.suites.load_suite`) whose degradations are the "do no harm" rows
of every default validation and test report: a restorer should return these inputs (nearly)
unchanged. With a data root they degrade the suite's first clean set (CBSD68), else the bundled
validation photos."""

DEFAULT_EVAL_SETS: dict[str, str] = {
    "denoise_15": "CBSD68:15",
    "denoise_25": "CBSD68:25",
    "denoise_50": "CBSD68:50",
    "derain": "Rain100L",
    "dehaze": "SOTS-outdoor",
    "deblur": "GoPro",
    "lowlight": "LOL-v1",
    "clean": "CBSD68:clean",
    **{
        f"cdd_{kind}": f"CDD11:{kind}"
        for kind in (
            "low",
            "haze",
            "rain",
            "snow",
            "low_haze",
            "low_rain",
            "low_snow",
            "haze_rain",
            "haze_snow",
            "low_haze_rain",
            "low_haze_snow",
        )
    },
}
"""The test set of each degradation task (``data.tasks`` names): its default validation and
test row with a data root."""


def default_rows(
    tasks: Sequence[DegradationTask],
    do_no_harm: Sequence[str],
    root: str | Path | None,
    seed: int,
    max_images: int | None,
    crop: int | None,
    bundled_crop: int | None,
    what: str,
) -> list[DegradationDataset]:
    """The default rows of ``tasks`` (``what``: ``"validation"`` or ``"test"``, for warnings).

    Args:
        tasks: the training tasks, one row each.
        do_no_harm: degradation specs of the "do no harm" rows.
        root: where the standard sets are searched; None: the bundled photos.
        seed: seed of the synthetic degradations.
        max_images, crop: keep the first N images, central crop (standard sets).
        bundled_crop: central crop of the bundled photos.
    """
    if root is None:
        rows = [bundled_dataset(task, "val", patch_size=bundled_crop, seed=seed) for task in tasks]
        return rows + [bundled_eval_dataset(spec, bundled_crop, seed) for spec in do_no_harm]
    clean_set = load_suite(DO_NO_HARM_SUITE).clean_sets[0]
    specs = [DEFAULT_EVAL_SETS[task.name] for task in tasks]
    specs += [degraded_row(clean_set, spec) for spec in do_no_harm]
    datasets = []
    for spec in specs:
        try:
            datasets.append(build_test_set(spec, root, seed, max_images, crop))
        except FileNotFoundError as error:
            log.warning("no %s set %s: %s", what, spec, error)
    return datasets
