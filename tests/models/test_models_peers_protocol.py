"""One protocol for every network: the peers restore with their own stride, are scored by the
evaluation loop, export to a Hub folder and load back, and ``baryir compare`` puts networks of
different architectures in one table."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from baryir.cli import main
from baryir.evaluation.runner import evaluate
from baryir.inference import restore
from baryir.io.image import write_image
from baryir.models import create_model, crop_to, export_model, load_model, pad_to_multiple

PEERS = {"nafnet-tiny": 16, "adair-tiny": 8}


def peer(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model(name, dim=8) if name.startswith("adair") else create_model(name)
    return model.eval()


@torch.no_grad()
@pytest.mark.parametrize("name", sorted(PEERS))
def test_restore_pads_to_the_networks_own_stride(name: str) -> None:
    model = peer(name)
    assert model.stride == PEERS[name]
    image = torch.rand(3, 30, 44, generator=torch.Generator().manual_seed(1))  # no multiple
    padded, size = pad_to_multiple(image[None], model.stride)
    assert padded.shape[-2:] == (32, 48)
    expected = crop_to(model.forward_padded(padded).restored, size).clamp(0, 1)[0]
    restored = restore(model, image)
    assert restored.shape == image.shape
    torch.testing.assert_close(restored, expected, rtol=0, atol=1e-6)
    assert (restored - image).abs().max() > 0.01  # random weights: the network acts


@torch.no_grad()
@pytest.mark.parametrize("name", sorted(PEERS))
def test_identity_init_zeroes_the_last_conv(name: str) -> None:
    """encode/decode are the network: decode(*encode(x)) + x is the forward; the identity init
    makes the decode zero."""
    model = peer(name)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    latent, skips = model.encode(x)
    assert latent.shape[1] == model.latent_channels
    assert [s.shape[1] for s in skips[: len(model.skip_channels)]] == list(model.skip_channels)
    torch.testing.assert_close(model.decode(latent, skips) + x, model(x).restored)
    model.init_identity()
    assert torch.equal(model(x).restored, x)


@pytest.mark.parametrize("name", sorted(PEERS))
def test_tiny_peer_trains(name: str) -> None:
    """Every parameter but AdaIR's rate convs is in the graph; the gates the authors start at 0
    (NAFNet's beta and gamma, AdaIR's para1: fresh blocks are identities) get a gradient."""
    model = peer(name).train()
    out = model(torch.rand(2, 3, 37, 53, generator=torch.Generator().manual_seed(3)))
    stride = PEERS[name]
    assert out.restored.shape == (2, 3, 37, 53)
    assert out.source_latent.shape == (2, model.latent_channels, -(-37 // stride), -(-53 // stride))
    out.restored.square().mean().backward()
    # AdaIR's rates pass through an integer truncation (the box's half sides), as the authors'
    # do: its rate_conv never gets a gradient
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert no_grad == [n for n, _ in model.named_parameters() if ".rate_conv." in n]
    gates = [p for n, p in model.named_parameters() if n.endswith(("beta", "gamma", "para1"))]
    assert gates and all(p.grad.abs().sum() > 0 for p in gates)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    generator = torch.Generator().manual_seed(4)
    for name in ("a", "b"):
        write_image(folder / f"{name}.png", torch.rand(3, 36, 28, generator=generator))
    return folder


@pytest.mark.parametrize("name", sorted(PEERS))
def test_evaluate_export_to_the_hub_and_back(name: str, clean: Path, tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub", reason="the Hub layout needs pip install 'baryir[hub]'")
    model = peer(name)
    weights = export_model(model, tmp_path / f"{name}.safetensors")
    hub = tmp_path / "hub"
    assert main(["export", str(weights), str(hub)]) == 0
    loaded = load_model(hub)
    assert type(loaded) is type(model) and loaded.stride == model.stride
    torch.testing.assert_close(loaded.state_dict(), model.state_dict(), rtol=0, atol=0)
    spec = f"noise:50@{clean}"
    direct, from_hub = evaluate(model, spec), evaluate(hub, spec)
    assert direct == from_hub and [row["images"] for row in direct.values()] == [2.0]


def test_compare_puts_different_architectures_in_one_table(
    clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    files = [export_model(peer(n), tmp_path / f"{n}.safetensors") for n in sorted(PEERS)]
    torch.manual_seed(0)
    files.append(export_model(create_model("restormer-tiny", dim=8), tmp_path / "r.safetensors"))
    out = tmp_path / "out"
    argv = ["--ckpt", *map(str, files), "--sets", f"noise:50@{clean}", "--output", str(out)]
    assert main(["compare", *argv]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("test set"))
    for label in ("adair-tiny (adair-tiny)", "nafnet-tiny (nafnet-tiny)", "r (restormer-tiny)"):
        assert f"{label} psnr" in header and f"{label} ssim" in header
    table = (out / "results.md").read_text()
    assert table.count("noise:50") == 1 and "average" in table
    for path in files:  # each column is that network's own score
        (row,) = evaluate(load_model(path), f"noise:50@{clean}").values()
        assert f"| {row['psnr']:.4f} |" in table
