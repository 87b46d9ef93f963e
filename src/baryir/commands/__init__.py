"""Commands of ``baryir`` that run without a Trainer: one module each, holding a typed ``run``.

:mod:`baryir.cli` parses their arguments from ``run``'s signature and docstring.
"""

import torch

DEFAULT_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
"""Where networks run unless ``--device`` says otherwise."""
