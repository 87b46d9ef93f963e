"""Deprecated: ``restore`` and ``evaluate`` are ``baryir.restore`` and ``baryir.evaluate``
(see :mod:`baryir`); this module goes in the next release."""

from baryir.deprecation import warn_deprecated

warn_deprecated("baryir.api", "baryir.restore / baryir.evaluate", stacklevel=2)

from baryir.evaluation.runner import evaluate  # noqa: E402
from baryir.inference import restore  # noqa: E402

__all__ = ["evaluate", "restore"]
