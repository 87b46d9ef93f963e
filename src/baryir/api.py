"""The Python API, mirroring the command line: ``restore`` (``baryir restore``) and ``evaluate``
(``baryir suite`` / ``baryir compare``).

Example:
    >>> import baryir
    >>> from baryir.models import create_model
    >>> model = create_model("baryir-tiny")
    >>> out = baryir.restore(model, torch.rand(3, 64, 64))  # doctest: +SKIP
    >>> rows = baryir.evaluate(model, ["CBSD68:25", "Rain100H"], max_images=2)  # doctest: +SKIP
"""

from baryir.evaluation.runner import evaluate
from baryir.inference import restore

__all__ = ["evaluate", "restore"]
