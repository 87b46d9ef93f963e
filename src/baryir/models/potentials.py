"""Deprecated: this module is :mod:`baryir.models.dual_potentials` (so that it is not mistaken
for the loss terms of :mod:`baryir.losses.potentials`); it goes in the next release."""

from baryir.deprecation import warn_deprecated

warn_deprecated("baryir.models.potentials", "baryir.models.dual_potentials", stacklevel=2)

from baryir.models.dual_potentials import *  # noqa: E402, F403
from baryir.models.dual_potentials import __all__  # noqa: E402, F401
