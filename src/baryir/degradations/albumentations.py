"""Deprecated: this module is :mod:`baryir.degradations.adapter` (a name of its own, not the
third-party package's); it goes in the next release."""

from baryir.deprecation import warn_deprecated

warn_deprecated("baryir.degradations.albumentations", "baryir.degradations.adapter", stacklevel=2)

from baryir.degradations.adapter import *  # noqa: E402, F403
from baryir.degradations.adapter import __all__  # noqa: E402, F401
