"""``torch.hub`` entry points: ``torch.hub.load(<clone>, "baryir_tiny", source="local")``.

One entry per preset of :func:`baryir.models.list_models` (``-`` written ``_``). Each builds the
preset's network, in eval mode; ``weights=`` loads a file or folder that
:func:`baryir.models.load_model` reads (a ``.ckpt`` of ``baryir fit``, an exported
``.safetensors``, a Hub folder or the authors' released ``.pt``); other keyword arguments are
the preset's constructor arguments. Nothing is downloaded.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from baryir.models import create_model, list_models  # noqa: E402

dependencies = ["torch", "safetensors"]


def _entry(preset: str):  # noqa: ANN202 - builds the entry functions below
    def entry(weights: str | None = None, **overrides):  # noqa: ANN003, ANN202
        return create_model(preset, weights=weights, **overrides).eval()

    entry.__name__ = preset.replace("-", "_")
    entry.__doc__ = f"The ``{preset}`` preset (``weights=``: a file or folder to load)."
    return entry


# One entry per registered preset, named from the registry (the names are listed there once).
globals().update({name.replace("-", "_"): _entry(name) for name in list_models()})
