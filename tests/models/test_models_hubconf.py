"""``hubconf.py``: every preset through ``torch.hub.load(<clone>, name, source="local")``."""

from __future__ import annotations

from pathlib import Path

import torch

from baryir.models import export_model, list_models

REPO = Path(__file__).resolve().parents[2]


def test_every_preset_has_an_entry_that_builds_it() -> None:
    for preset in list_models():
        entry = preset.replace("-", "_")
        # a smaller width where the class has one (NAFNet's tiny is small already)
        overrides = {"dim": 8} if "promptir" not in preset and "nafnet" not in preset else {}
        if preset.endswith("tiny") or preset == "restormer":
            model = torch.hub.load(str(REPO), entry, source="local", **overrides)
            assert model.preset_name == preset and not model.training
        else:  # the full networks: the entry exists (building them is slow)
            hub = torch.hub._import_module("hubconf", str(REPO / "hubconf.py"))
            assert callable(getattr(hub, entry))


def test_entry_loads_weights(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = torch.hub.load(str(REPO), "baryir_tiny", source="local", dim=8)
    weights = export_model(source, tmp_path / "w.safetensors")
    loaded = torch.hub.load(str(REPO), "baryir_tiny", source="local", weights=str(weights))
    torch.testing.assert_close(loaded.state_dict(), source.state_dict(), rtol=0, atol=0)
