"""Deprecated: suites moved to :mod:`baryir.data.suites` (the data module reads them too); these
names go in the next release."""

from __future__ import annotations

from baryir.deprecation import deprecated_names

_SUITE_NAMES = ("Suite", "SuiteEntry", "SuiteFile", "SuiteSet", "load_suite", "parse_suite")
__getattr__ = deprecated_names(
    __name__, {name: f"baryir.data.suites:{name}" for name in _SUITE_NAMES}
)
