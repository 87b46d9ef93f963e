"""Training and evaluation data: sources, paired transforms, mixing, balanced batches.

Example:
    >>> from baryir.data import RestorationDataModule
    >>> dm = RestorationDataModule()  # bundled scikit-image photos, 3 tasks
    >>> dm.setup("fit")
    >>> print(dm.summary())  # doctest: +SKIP
"""

from baryir.data.datamodule import DEFAULT_TASKS, RestorationDataModule
from baryir.data.datasets import (
    DegradationDataset,
    PairedSource,
    SyntheticSource,
    build_test_set,
    bundled_source,
    list_test_sets,
)
from baryir.data.degradation_tasks import SOURCE_NAMES, TASKS, TaskInfo, resolve_task, resolve_tasks
from baryir.data.mixing import MixedDataset, source_weights
from baryir.data.samplers import SourceBalancedBatchSampler
from baryir.data.transforms import PairedRandomCrop, dihedral
from baryir.deprecation import deprecated_names

__all__ = [
    "DEFAULT_TASKS",
    "SOURCE_NAMES",
    "TASKS",
    "DegradationDataset",
    "MixedDataset",
    "PairedRandomCrop",
    "PairedSource",
    "RestorationDataModule",
    "SourceBalancedBatchSampler",
    "SyntheticSource",
    "TaskInfo",
    "build_test_set",
    "bundled_source",
    "dihedral",
    "list_test_sets",
    "resolve_task",
    "resolve_tasks",
    "source_weights",
]

_deprecated = deprecated_names(
    __name__, {"SourceDataset": "baryir.data.datasets.base:DegradationDataset"}
)


def __getattr__(name: str) -> object:
    """``DEFAULT_EVAL_SETS`` (each task's default test set, read from the ``tasks`` suite when
    asked for) and the deprecated names."""
    if name == "DEFAULT_EVAL_SETS":
        from baryir.data import datamodule

        return datamodule.DEFAULT_EVAL_SETS
    return _deprecated(name)
