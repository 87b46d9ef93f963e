"""Datasets: one file per kind (synthetic, paired, bundled, paper layout, test sets)."""

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.bundled import BUNDLED_TRAIN, BUNDLED_VAL, bundled_images, bundled_source
from baryir.data.datasets.files import find_images as find_images  # deprecated: warns on use
from baryir.data.datasets.files import find_pairs, pair_key
from baryir.data.datasets.layout import layout_sources
from baryir.data.datasets.paired import PairedSource
from baryir.data.datasets.synthetic import InMemoryImage, SyntheticSource
from baryir.data.datasets.testsets import TEST_SETS, build_test_set, list_test_sets
from baryir.deprecation import deprecated_names

__all__ = [
    "BUNDLED_TRAIN",
    "BUNDLED_VAL",
    "TEST_SETS",
    "DegradationDataset",
    "InMemoryImage",
    "PairedSource",
    "SyntheticSource",
    "build_test_set",
    "bundled_images",
    "bundled_source",
    "find_pairs",
    "layout_sources",
    "list_test_sets",
    "pair_key",
]

__getattr__ = deprecated_names(
    __name__, {"SourceDataset": "baryir.data.datasets.base:DegradationDataset"}
)
