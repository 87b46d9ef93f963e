"""Every preset of the registry: construction, sizes, forward, gradients, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from baryir.models import (
    RestorationOutput,
    Restormer,
    create_model,
    export_model,
    list_models,
    load_model,
    model_config,
    register_model,
    registry,
)
from baryir.models.base import config_fields

PRESETS = {
    "baryir",
    "baryir-tiny",
    "restormer",
    "restormer-tiny",
    "promptir",
    "promptir-tiny",
    "baryir-promptir",
    "baryir-promptir-tiny",
}
PEERS = {"nafnet", "nafnet-sidd-32", "nafnet-sidd-64", "nafnet-gopro-64", "nafnet-tiny"}
PEERS |= {"adair", "adair-tiny"}  # tested in test_models_peers*.py (their strides and inits)
# the head on each peer, tested in test_models_bary_peers.py
PEERS |= {"baryir-nafnet", "baryir-nafnet-tiny", "baryir-adair", "baryir-adair-tiny"}
FULL_SIZES = {
    "baryir": 53_549_774,  # released 53,765,070 less the six unused convs (215,296)
    "promptir": 35_376_967,  # released 35,592,263 less the same six convs
    "restormer": 26_126_644,  # published Restormer
    "baryir-promptir": 65_265_683,  # our design, BaryNet with PROMPT_DIMS
}
TINY = sorted(name for name in PRESETS if name.endswith("-tiny"))


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_list_models() -> None:
    # The package's own presets (a test's user network may have registered its own).
    package = {
        n for n in list_models() if registry._MODELS.get(n).cls.__module__.startswith("baryir.")
    }
    assert package == PRESETS | PEERS


@pytest.mark.parametrize("name", sorted(FULL_SIZES))
def test_full_presets_size(name: str) -> None:
    model = create_model(name)
    assert count(model) == FULL_SIZES[name]
    assert model.latent_channels == 384
    assert model.has_barycenter == name.startswith("baryir")
    json.dumps(model_config(model))


@pytest.mark.parametrize("name", TINY)
def test_tiny_preset_trains(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name)
    assert 0.5e6 < count(model) < 4e6
    x = torch.rand(2, 3, 37, 53)
    out = model(x)
    assert isinstance(out, RestorationOutput)
    assert out.restored.shape == (2, 3, 37, 53)
    c = model.latent_channels
    assert out.source_latent.shape == (2, c, 5, 7)
    loss = out.restored.square().mean() + out.source_latent.square().mean()
    if model.has_barycenter:
        assert out.barycenter.shape == out.residual.shape == out.source_latent.shape
        torch.testing.assert_close(out.residual, out.source_latent - out.barycenter)
        loss = loss + out.barycenter.square().mean() + out.residual.abs().mean()
    else:
        assert out.barycenter is None and out.residual is None
    loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert no_grad == []


@pytest.mark.parametrize("name", TINY)
def test_tiny_state_dict_and_config_round_trip(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name).eval()
    config = json.loads(json.dumps(model_config(model)))
    clone = create_model(name, **config).eval()
    clone.load_state_dict(model.state_dict(), strict=True)
    x = torch.rand(1, 3, 16, 24)
    with torch.no_grad():
        torch.testing.assert_close(clone(x).restored, model(x).restored, rtol=0, atol=0)


def test_tiny_baryir_within_budget() -> None:
    # About 1.4 M parameters and 25 GFLOP a training step at batch 6 of 48x48: the quickstart's.
    assert 1.0e6 <= count(create_model("baryir-tiny")) <= 2.0e6


def test_unknown_names() -> None:
    with pytest.raises(ValueError, match="valid names: .*baryir-tiny"):
        create_model("baryir-huge")
    with pytest.raises(ValueError, match="unknown arguments \\['dimm'\\]; valid arguments: .*dim"):
        create_model("baryir-tiny", dimm=8)


def test_bad_input_shape() -> None:
    with pytest.raises(ValueError, match=r"expected input \(B, 3, H, W\)"):
        create_model("restormer-tiny")(torch.rand(3, 16, 16))


def test_overrides() -> None:
    model = create_model("baryir-tiny", dim=8, residual_skip_scale=0.5)
    assert model_config(model)["dim"] == 8 and model.head.residual_skip_scale == 0.5
    assert model.latent_channels == 64


def test_weights_from_a_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = create_model("baryir-tiny", dim=8)
    export_model(source, tmp_path / "w.safetensors")
    model = create_model("baryir-tiny", weights=tmp_path / "w.safetensors")
    assert model_config(model)["dim"] == 8
    torch.testing.assert_close(model.state_dict(), source.state_dict(), rtol=0, atol=0)
    save_file({"nonsense.weight": torch.zeros(1)}, tmp_path / "n.safetensors")
    with pytest.raises(ValueError):
        create_model("baryir-tiny", weights=tmp_path / "n.safetensors")


def test_load_model_names_the_network_and_the_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = create_model("restormer-tiny")
    export_model(source, tmp_path / "r.safetensors")
    loaded = load_model(tmp_path / "r.safetensors")
    assert loaded.preset_name == "restormer-tiny" and not loaded.training
    torch.testing.assert_close(loaded.state_dict(), source.state_dict(), rtol=0, atol=0)
    torch.save(source.state_dict(), tmp_path / "raw.pth")  # no config: the name must be given
    with pytest.raises(ValueError, match=r"raw.pth: the file does not say which network"):
        load_model(tmp_path / "raw.pth")
    assert load_model(tmp_path / "raw.pth", "restormer-tiny").preset_name == "restormer-tiny"
    with pytest.raises(ValueError, match=r"raw.pth: weights do not fit BaryNet: missing"):
        load_model(tmp_path / "raw.pth", "baryir-tiny")


def test_config_is_the_constructor_call() -> None:
    # The signature is the one source: every argument, defaults included, sequences as lists.
    model = create_model("restormer-tiny", dim=8)
    assert model_config(model) == {
        "in_channels": 3,
        "dim": 8,
        "num_blocks": [1, 2, 2, 2],
        "num_refinement_blocks": 1,
        "heads": [1, 2, 4, 8],
        "ffn_expansion_factor": 2.0,
        "decoder_in_channels": None,
    }
    for name in list_models():
        preset = registry._MODELS.get(name)
        assert set(config_fields(preset.cls)) >= set(preset.kwargs)


def test_a_subclass_records_its_own_arguments() -> None:
    class Wide(Restormer):
        def __init__(self, width: int = 16) -> None:
            super().__init__(dim=width, num_blocks=(1, 1, 1, 1), num_refinement_blocks=1)

    assert Wide(width=8).config == {"width": 8}
    with pytest.raises(TypeError, match="cannot be recorded in a config"):

        class Loose(Restormer):
            def __init__(self, **kwargs: int) -> None:
                super().__init__(**kwargs)


def test_preset_arguments_are_checked_at_definition() -> None:
    with pytest.raises(ValueError, match="Restormer has no arguments \\['prompt_dims'\\]"):
        register_model("restormer-prompts", prompt_dims=(1, 2, 3))(Restormer)
    assert "restormer-prompts" not in list_models()
