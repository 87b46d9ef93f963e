"""Dataset sources: one file per kind (synthetic, paired, bundled, paper layout, test sets)."""

from baryir.data.datasets.base import SourceDataset
from baryir.data.datasets.bundled import BUNDLED_TRAIN, BUNDLED_VAL, bundled_images, bundled_source
from baryir.data.datasets.files import find_images, find_pairs, pair_key
from baryir.data.datasets.layout import layout_sources
from baryir.data.datasets.paired import PairedSource
from baryir.data.datasets.synthetic import InMemoryImage, SyntheticSource
from baryir.data.datasets.testsets import TEST_SETS, build_test_set, list_test_sets

__all__ = [
    "BUNDLED_TRAIN",
    "BUNDLED_VAL",
    "TEST_SETS",
    "InMemoryImage",
    "PairedSource",
    "SourceDataset",
    "SyntheticSource",
    "build_test_set",
    "bundled_images",
    "bundled_source",
    "find_images",
    "find_pairs",
    "layout_sources",
    "list_test_sets",
    "pair_key",
]
