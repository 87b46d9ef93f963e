"""Training and evaluation data: sources, paired transforms, mixing, balanced batches.

Example:
    >>> from baryir.data import RestorationDataModule
    >>> dm = RestorationDataModule()  # bundled scikit-image photos, 3 tasks
    >>> dm.setup("fit")
    >>> print(dm.summary())  # doctest: +SKIP
"""

from baryir.data.datamodule import DEFAULT_EVAL_SETS, DEFAULT_TASKS, RestorationDataModule
from baryir.data.datasets import (
    DegradationDataset,
    PairedDataset,
    SyntheticDataset,
    build_test_set,
    bundled_dataset,
    list_test_sets,
)
from baryir.data.degradation_tasks import (
    SOURCE_NAMES,
    TASKS,
    DegradationTask,
    resolve_task,
    resolve_tasks,
)
from baryir.data.mixing import MixedDataset, source_weights
from baryir.data.samplers import SourceBalancedBatchSampler
from baryir.data.transforms import PairedRandomCrop, dihedral

__all__ = [
    "DEFAULT_EVAL_SETS",
    "DEFAULT_TASKS",
    "SOURCE_NAMES",
    "TASKS",
    "DegradationDataset",
    "MixedDataset",
    "PairedRandomCrop",
    "PairedDataset",
    "RestorationDataModule",
    "SourceBalancedBatchSampler",
    "SyntheticDataset",
    "DegradationTask",
    "build_test_set",
    "bundled_dataset",
    "dihedral",
    "list_test_sets",
    "resolve_task",
    "resolve_tasks",
    "source_weights",
]


def __getattr__(name: str) -> object:
    """``DEFAULT_EVAL_SETS`` (each task's default test set, read from the ``tasks`` suite when
    asked for)."""
    if name == "DEFAULT_EVAL_SETS":
        from baryir.data import datamodule

        return datamodule.DEFAULT_EVAL_SETS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
