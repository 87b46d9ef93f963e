"""Deprecated: ``BaryNetP`` is the ``baryir-promptir`` preset of :class:`BaryNet`.

Use ``create_model("baryir-promptir")`` or ``BaryNet(prompt_dims=PROMPT_DIMS)``
(:data:`baryir.models.barynet.PROMPT_DIMS`); this module goes in the next release.
"""

from __future__ import annotations

from typing import Any

from baryir.deprecation import warn_deprecated
from baryir.models.barynet import PROMPT_DIMS, BaryNet

__all__ = ["BaryNetP"]


def BaryNetP(*args: Any, **kwargs: Any) -> BaryNet:  # noqa: N802 - the old class name
    """Deprecated: ``BaryNet`` with ``prompt_dims`` defaulting to :data:`PROMPT_DIMS`."""
    warn_deprecated(
        "baryir.models.BaryNetP", 'create_model("baryir-promptir") or BaryNet(prompt_dims=...)'
    )
    if len(args) < 10:  # prompt_dims is BaryNet's tenth argument
        kwargs.setdefault("prompt_dims", PROMPT_DIMS)
    return BaryNet(*args, **kwargs)
