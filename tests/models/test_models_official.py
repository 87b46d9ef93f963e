"""Released checkpoints: name mapping, strict loading, conversion to safetensors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from torch import Tensor

from baryir.models import (
    BaryNet,
    DualPotentials,
    PromptIR,
    convert_official_checkpoint,
    convert_official_state_dict,
    create_model,
    load_official_checkpoint,
)
from baryir.models.official import detect_official_arch

BARYNET = ("official_barynet_state_dict.json", "BaryNet(decoder=True)")
POTENTIALS = (
    "official_barynet_state_dict.json",
    "Potentials(num_potentials=3, channels=384, size=128)",
)
PROMPTIR = ("promptir_state_dict.json", "PromptIR(decoder=True)")
UNUSED = {"chnl_reduce1", "chnl_reduce2", "chnl_reduce3"} | {
    f"reduce_noise_channel_{i}" for i in (1, 2, 3)
}


def shared_dir() -> Path:
    return Path(
        os.environ.get("BARYIR_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
    )


def synthetic(file: str, key: str, seed: int = 0) -> dict[str, Tensor]:
    """Random tensors with the released names and shapes."""
    path = shared_dir() / "reference" / file
    if not path.is_file():
        pytest.skip(f"released parameter list not found at {path} (set BARYIR_SHARED)")
    g = torch.Generator().manual_seed(seed)
    return {n: torch.randn(s, generator=g) for n, s in json.loads(path.read_text())[key].items()}


def check_landed(model: torch.nn.Module, released: dict[str, Tensor], converted: dict) -> None:
    """Every kept released tensor sits, unchanged, in the parameter it was mapped to."""
    own = model.state_dict()
    kept = {n for n in released if n.split(".")[0] not in UNUSED}
    assert len(converted) == len(kept) == len(own)
    by_value = {id(t): n for n, t in released.items()}
    for new_name, tensor in converted.items():
        torch.testing.assert_close(own[new_name], released[by_value[id(tensor)]], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("spec", "preset", "cls", "dropped"),
    [(BARYNET, "baryir", BaryNet, 215_296), (PROMPTIR, "promptir", PromptIR, 215_296)],
)
def test_network_mapping(spec, preset, cls, dropped) -> None:
    released = synthetic(*spec)
    assert detect_official_arch(released) == ("barynet" if cls is BaryNet else "promptir")
    converted = convert_official_state_dict(released)
    model = create_model(preset)
    model.load_state_dict(converted, strict=True)
    check_landed(model, released, converted)
    total = sum(t.numel() for t in released.values())
    assert total - dropped == sum(p.numel() for p in model.parameters())


def test_barynet_mapping_examples() -> None:
    converted = convert_official_state_dict(synthetic(*BARYNET))
    for name in [
        "encoder.patch_embed.proj.weight",
        "encoder.level1.0.norm1.weight",
        "encoder.down3.conv.weight",
        "head.latent_norm.bias",
        "head.barycenter_map.7.attn.temperature",
        "head.residual_decoder.0.up.conv.weight",
        "head.residual_decoder.1.proj_in.weight",
        "head.residual_decoder.2.blocks.5.ffn.project_out.weight",
        "decoder.level3.transition.block.attn.qkv.weight",
        "decoder.level1.transition.reduce.weight",
        "decoder.level3.fuse.weight",
        "decoder.refinement.3.norm2.weight",
        "decoder.output.weight",
    ]:
        assert name in converted


def test_potentials_mapping_and_file(tmp_path: Path) -> None:
    released = synthetic(*POTENTIALS)
    converted = convert_official_state_dict(released)
    model = DualPotentials(3, 384, 128, pooling="released")
    model.load_state_dict(converted, strict=True)
    check_landed(model, released, converted)
    torch.save({"state_dict": {f"module.{k}": v for k, v in released.items()}}, tmp_path / "f.pth")
    loaded = load_official_checkpoint(tmp_path / "f.pth")
    assert isinstance(loaded, DualPotentials) and loaded.config["patch_size"] == 128
    torch.testing.assert_close(loaded.state_dict(), model.state_dict(), rtol=0, atol=0)


def test_load_and_convert_file(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    released = synthetic(*BARYNET)
    path = tmp_path / "barynet.pth"
    torch.save({"params": {f"net.{k}": v for k, v in released.items()}, "epoch": 3}, path)
    model = load_official_checkpoint(path)
    assert isinstance(model, BaryNet)
    torch.testing.assert_close(
        model.head.latent_norm.weight, released["LN.body.weight"], rtol=0, atol=0
    )
    dst = convert_official_checkpoint(path, tmp_path / "out" / "baryir.safetensors")
    sidecar = json.loads(dst.with_suffix(".json").read_text())
    assert sidecar["model"] == "baryir" and sidecar["config"]["dim"] == 48
    state = load_file(dst)
    rebuilt = create_model(sidecar["model"], **sidecar["config"])
    rebuilt.load_state_dict(state, strict=True)
    assert sorted(p.name for p in dst.parent.iterdir()) == ["baryir.json", "baryir.safetensors"]
    # A released file handed straight to create_model is converted on the fly.
    direct = create_model("baryir", weights=path)
    torch.testing.assert_close(
        direct.head.latent_norm.weight, released["LN.body.weight"], rtol=0, atol=0
    )


def test_clear_errors(tmp_path: Path) -> None:
    released = synthetic(*PROMPTIR)
    del released["prompt1.conv3x3.weight"]
    released["prompt1.extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="match no rule"):
        convert_official_state_dict({**released, "mystery.weight": torch.zeros(1)})
    path = tmp_path / "broken.pth"
    torch.save(released, path)
    with pytest.raises(ValueError, match=r"missing \['decoder.level1.transition.prompt.conv"):
        load_official_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_official_checkpoint(tmp_path / "nothing.pth")
    with pytest.raises(ValueError, match="not a released"):
        convert_official_state_dict({"foo.weight": torch.zeros(1)})
