"""The barycenter head on the peers: ``baryir-nafnet`` and ``baryir-adair`` (and ``-tiny``)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import torch

from baryir.cli import main
from baryir.models import create_model, crop_to, pad_to_multiple

ROOT = Path(__file__).resolve().parents[2]
TINY_CONF = ROOT / "tests" / "conf" / "tiny.yaml"
# Small widths of the tiny presets (NAFNet's latent 16 x 8, AdaIR's 8 x 8 channels): fast tests.
SMALL = {"baryir-nafnet-tiny": {"width": 8}, "baryir-adair-tiny": {"dim": 8}}
STRIDES = {"baryir-nafnet-tiny": 16, "baryir-adair-tiny": 8}
NAMES = sorted(SMALL)


def net(name: str, **kwargs: float) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(name, **SMALL[name], **kwargs).eval()


def image(h: int = 32, w: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(seed))


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@torch.no_grad()
@pytest.mark.parametrize("name", NAMES)
def test_outputs_are_the_barycenter_and_its_residual(name: str) -> None:
    model = net(name)
    out = model(image())
    assert model.has_barycenter and model.stride == STRIDES[name]
    side = 32 // model.stride
    assert out.barycenter.shape == (2, model.latent_channels, side, side)
    assert out.barycenter.shape == out.residual.shape == out.source_latent.shape
    assert torch.equal(out.residual, out.source_latent - out.barycenter)
    # z and b share the head's norm (weight 1, bias 0 fresh): each pixel's channels have mean 0
    torch.testing.assert_close(out.barycenter.mean(1), torch.zeros_like(out.barycenter[:, 0]))


@torch.no_grad()
@pytest.mark.parametrize("name", NAMES)
def test_skip_corrections_change_the_output(name: str) -> None:
    model, x = net(name), image()
    latent, skips = model.encode(x)
    head = model.head(latent, skips)
    corrections = model.head.corrections(head.residual)
    assert [s.shape[1] for s in corrections] == list(model.skip_channels)
    levels = len(model.skip_channels)
    for e, s, corrected in zip(skips, corrections, head.skips, strict=False):
        assert torch.equal(corrected, e + 0.8 * s)
    # AdaIR's extra skip, the input image its frequency modules read, passes through unchanged
    assert len(head.skips) == len(skips)
    assert all(a is b for a, b in zip(head.skips[levels:], skips[levels:], strict=True))
    assert (name == "baryir-adair-tiny") == (len(skips) == levels + 1)
    corrected = model(x).restored
    model.head.residual_skip_scale = 0.0
    plain = model(x).restored
    assert (corrected - plain).abs().max() > 1e-3
    # scale 0: e_k + 0 * s_k is e_k exactly, so the output is the decode of cat[b, r]
    assert torch.equal(plain, model.decode(head.features, skips) + x)


@torch.no_grad()
@pytest.mark.parametrize("name", NAMES)
def test_init_identity_returns_the_input_exactly(name: str) -> None:
    model, x = net(name), image(27, 41)
    model.init_identity()
    assert torch.equal(model(x).restored, x)


@torch.no_grad()
@pytest.mark.parametrize("name", NAMES)
def test_padding_at_sizes_no_multiple_of_the_stride(name: str) -> None:
    model, x = net(name), image(34, 44)
    padded, size = pad_to_multiple(x, model.stride)
    h, w = {16: (48, 48), 8: (40, 48)}[model.stride]  # the backbone's own stride
    assert padded.shape[-2:] == (h, w)
    out = model(x)
    assert out.restored.shape == x.shape
    assert out.source_latent.shape[-2:] == (h // model.stride, w // model.stride)
    assert torch.equal(out.restored, crop_to(model.forward_padded(padded).restored, size))


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_the_barycenter_map(name: str) -> None:
    model = net(name).train()
    model(image(30, 44)).restored.square().mean().backward()
    grads = [p.grad for p in model.head.barycenter_map.parameters()]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)
    stages = [p.grad for p in model.head.residual_decoder.parameters()]
    assert stages and all(g is not None and g.abs().sum() > 0 for g in stages)


def documented_counts() -> dict[str, int]:
    """``| `preset` | parameters | the head's |`` rows of the head's table in docs/peers.md
    (the head's own count as ``preset:head``)."""
    page = (ROOT / "docs" / "peers.md").read_text()
    section = page.split("## The barycenter head on a peer", 1)[1]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| ([\d,]+) \| *([\d,]*) *\|", section, flags=re.M)
    counts = {name: int(total.replace(",", "")) for name, total, _ in rows}
    counts |= {f"{name}:head": int(head.replace(",", "")) for name, _, head in rows if head}
    return counts


def check_counts(names: list[str]) -> None:
    counts = documented_counts()
    for name in names:
        torch.manual_seed(0)
        model = create_model(name)
        assert counts[name] == count(model), name
        if model.has_barycenter:  # the head's own parameters are in the table too
            assert counts[f"{name}:head"] == count(model.head), name


def test_documented_parameter_counts_of_the_tiny_presets() -> None:
    names = ["nafnet-tiny", "baryir-nafnet-tiny", "adair-tiny", "baryir-adair-tiny"]
    check_counts(names)


@pytest.mark.slow
def test_documented_parameter_counts_of_the_full_presets() -> None:
    check_counts(["nafnet", "baryir-nafnet", "adair", "baryir-adair"])


@pytest.mark.parametrize("name", NAMES)
def test_trains_with_the_full_objective_through_fit(name: str, tmp_path: Path) -> None:
    args = ", ".join(f"{k}: {v}" for k, v in SMALL[name].items())
    main(
        [
            "fit",
            "--config",
            str(TINY_CONF),
            f"--model.model={name}",
            f"--model.model_args={{{args}}}",
            "--trainer.max_steps=3",
            "--trainer.val_check_interval=3",
            f"--trainer.default_root_dir={tmp_path}",
            f"--trainer.logger.init_args.save_dir={tmp_path}",
            f"--trainer.callbacks.init_args.dirpath={tmp_path / 'ckpt'}",
        ]
    )
    rows = list(csv.DictReader(next(tmp_path.rglob("metrics.csv")).open()))
    terms = {"loss", "pixel", "transport", "orthogonality", "contrast", "sinkhorn"}
    for term in terms:  # tiny.yaml: the Sinkhorn solver, every alignment term of the objective
        values = [float(row[f"train/{term}"]) for row in rows if row.get(f"train/{term}")]
        assert len(values) == 3 and all(torch.isfinite(torch.tensor(values))), term
    checkpoint = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)
    assert checkpoint["hyper_parameters"]["model"] == name
