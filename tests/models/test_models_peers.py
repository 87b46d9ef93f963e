"""NAFNet and AdaIR against their authors: forwards equal to the authors' outputs, parameter names
and shapes equal to the released configurations', the frequency split's maths."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from baryir.models import AdaIR, NAFNet, create_model
from baryir.models.detect import detect_peer
from baryir.models.layers.frequency import frequency_split
from baryir.models.registry import load_strict

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from peer_formats import (  # noqa: E402
    adair_authors_state_dict,
    reference_path,
    reference_small,
    reference_tensors,
)

RELEASED = {
    "nafnet_sidd_width32": "nafnet-sidd-32",
    "nafnet_sidd_width64": "nafnet-sidd-64",
    "nafnet_gopro_width64": "nafnet-gopro-64",
    "adair": "adair",
}


def peers_reference(name: str) -> Path:
    path = reference_path(name)
    if not path.is_file():
        pytest.skip(f"peer reference {path} not found (set BARYIR_SHARED)")
    return path


def small_network(name: str) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """The small width of the authors' class, its seeded weights loaded, and the file's data."""
    weights, data, kwargs = reference_small(peers_reference(f"{name}_small.safetensors"))
    peer = detect_peer(weights)
    assert peer is not None
    model = (NAFNet if name == "nafnet" else AdaIR)(**peer.config).eval()
    load_strict(model, peer.state_dict, name)
    expected = {k: v for k, v in kwargs.items() if k != "img_channel"}
    assert {k: peer.config[k] for k in expected} == expected  # the constructor call, recognised
    return model, data


@pytest.fixture(scope="module")
def forwards() -> dict[tuple[str, str], tuple[torch.Tensor, ...]]:
    """``(input, authors' output, ours, rates of the last frequency module)`` of each
    reference input, run once (AdaIR at 512 x 512 takes seconds)."""
    results = {}
    for name, keys in (("nafnet", ("input",)), ("adair", ("input", "input_large"))):
        model, data = small_network(name)
        for key in keys:
            rates: list[torch.Tensor] = []
            hook = (
                model.decoder.fre3.rate_conv.register_forward_hook(
                    lambda module, args, out, rates=rates: rates.append(out.sigmoid().flatten())
                )
                if name == "adair"
                else None
            )
            with torch.no_grad():
                out = model(data[key]).restored
            if hook is not None:
                hook.remove()
            expected = data[key.replace("input", "output")]
            results[name, key] = (data[key], expected, out, *rates)
    return results


@pytest.mark.parametrize(
    ("name", "key"), [("nafnet", "input"), ("adair", "input"), ("adair", "input_large")]
)
def test_forward_equals_the_authors_output(forwards: dict, name: str, key: str) -> None:
    x, expected, out, *_ = forwards[name, key]
    scale = (expected.max() - expected.min()).item()
    # float32 rounding through ~20 layers, summed in another order than the authors' (fused
    # attention, channels-last norms): a few 1e-7 of the output's range on Intel and AMD
    assert (out - expected).abs().max().item() <= 1e-5 * scale
    assert (expected - x).abs().max() > 0.1 * scale  # the networks change their input


def test_the_large_input_has_a_low_frequency_band(forwards: dict) -> None:
    """At 512 x 512 the last frequency module (256 x 256 features) draws a non-empty box; at
    64 x 64 every box is empty (sides under 128)."""
    rates = forwards["adair", "input_large"][3]
    assert int((256 // 128) * rates[0]) > 0 or int((256 // 128) * rates[1]) > 0


@pytest.mark.parametrize("config", sorted(RELEASED))
def test_names_and_shapes_equal_the_released_configuration(config: str) -> None:
    """The released JSON's every tensor, recognised and renamed, is exactly the preset's; the
    sizes read off the tensors are the preset's arguments."""
    released = reference_tensors(peers_reference(f"{config}_state_dict.json"))
    peer = detect_peer(released)
    assert peer is not None
    with torch.device("meta"):
        model = create_model(RELEASED[config])
    assert {k: tuple(v.shape) for k, v in peer.state_dict.items()} == {
        k: tuple(v.shape) for k, v in model.state_dict().items()
    }
    assert {k: model.config[k] for k in peer.config} == peer.config
    kept = {id(t) for t in peer.state_dict.values()}
    unused = sorted(n for n, t in released.items() if id(t) not in kept)
    # AdaIR keeps two convs per frequency module that its forward never reads
    expected = sorted(
        f"fre{i}.{name}"
        for i in (1, 2, 3)
        for name in ("conv.weight", "score_gen.weight", "score_gen.bias")
    )
    assert unused == (expected if config == "adair" else [])


def test_adair_writer_gives_the_authors_names() -> None:
    """benchmarks/peer_formats.py's AdaIR names are the authors' (the release's JSON)."""
    released = reference_tensors(peers_reference("adair_state_dict.json"))
    with torch.device("meta"):
        names = adair_authors_state_dict(create_model("adair"))
    assert {k: tuple(v.shape) for k, v in names.items()} == {
        k: tuple(v.shape) for k, v in released.items()
    }


def test_any_size_is_recognised() -> None:
    """Widths, depths, block counts and heads that no preset has are read off the tensors."""
    for model, authors in (
        (NAFNet(width=6, middle_blk_num=2, enc_blk_nums=(1, 3), dec_blk_nums=(2, 1)), dict),
        (
            AdaIR(dim=8, num_blocks=(1, 2, 1, 3), num_refinement_blocks=2, heads=(2, 2, 4, 4)),
            adair_authors_state_dict,
        ),
        (
            AdaIR(dim=16, ffn_expansion_factor=2.0, num_blocks=(1, 1, 1, 1)),
            adair_authors_state_dict,
        ),
    ):
        peer = detect_peer(authors(model.state_dict()) if authors is dict else authors(model))
        assert peer is not None
        rebuilt = type(model)(**peer.config)
        assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
            k: v.shape for k, v in model.state_dict().items()
        }
        assert {
            k: rebuilt.config[k]
            for k in ("num_blocks", "heads", "enc_blk_nums")
            if k in peer.config
        } == {
            k: model.config[k] for k in ("num_blocks", "heads", "enc_blk_nums") if k in peer.config
        }
    assert detect_peer(create_model("restormer-tiny").state_dict()) is None


def test_frequency_split_of_a_constant_is_all_low() -> None:
    """A constant has only the DC term, at the centre of the shifted spectrum: inside any
    non-empty box (low = the image, high = 0) and everything is high for an empty box."""
    x = torch.full((1, 2, 256, 128), 0.3)
    high, low = frequency_split(x, torch.tensor([[1.0, 1.0]]))  # box 2 x 1 half sides
    torch.testing.assert_close(low, x)
    assert high.abs().max() < 1e-6
    high, low = frequency_split(x, torch.tensor([[0.4, 1.0]]))  # int(2 * 0.4) = 0 rows: empty
    torch.testing.assert_close(high, x)
    assert low.abs().max() == 0


def test_frequency_split_keeps_the_box_of_frequencies() -> None:
    """``low`` is the magnitude of the inverse transform of the spectrum inside the box."""
    x = torch.rand(2, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    rates = torch.tensor([[1.0, 0.9], [0.6, 0.2]])  # boxes 2 x 1 and 1 x 0 (empty) half sides
    high, low = frequency_split(x, rates)
    spectrum = torch.fft.fftshift(torch.fft.fft2(x[:1], norm="forward"), dim=(-2, -1))
    box = torch.zeros_like(spectrum)
    box[..., 126:130, 127:129] = spectrum[..., 126:130, 127:129]
    expected = torch.fft.ifft2(torch.fft.ifftshift(box, dim=(-2, -1)), norm="forward").abs()
    torch.testing.assert_close(low[:1], expected, rtol=0, atol=1e-6)
    assert low[1].abs().max() == 0
    torch.testing.assert_close(high[1], x[1], rtol=0, atol=1e-6)  # |ifft(fft(x))| = x >= 0
