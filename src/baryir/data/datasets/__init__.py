"""Datasets: one file per kind (synthetic, paired, bundled, paper layout, test sets)."""

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.bundled import BUNDLED_TRAIN, BUNDLED_VAL, bundled_dataset, bundled_images
from baryir.data.datasets.files import find_pairs, pair_key
from baryir.data.datasets.layout import layout_datasets
from baryir.data.datasets.paired import PairedDataset
from baryir.data.datasets.synthetic import InMemoryImage, SyntheticDataset
from baryir.data.datasets.testsets import TEST_SETS, build_test_set, list_test_sets

__all__ = [
    "BUNDLED_TRAIN",
    "BUNDLED_VAL",
    "TEST_SETS",
    "DegradationDataset",
    "InMemoryImage",
    "PairedDataset",
    "SyntheticDataset",
    "build_test_set",
    "bundled_images",
    "bundled_dataset",
    "find_pairs",
    "layout_datasets",
    "list_test_sets",
    "pair_key",
]
