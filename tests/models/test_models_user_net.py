"""The barycenter head on a user's own encoder-decoder (``user_net/toy.py``, outside ``src/``)."""

from __future__ import annotations

import importlib
import io
import json

import pytest
import torch
from user_net import toy

from baryir.models import BarycenterHead, create_model, list_models, model_config, register_model
from baryir.models.base import EncoderDecoder


def image(h: int = 10, w: int = 14, seed: int = 0) -> torch.Tensor:
    return torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(seed))


def net(**kwargs: float) -> toy.BaryToyNet:
    torch.manual_seed(0)
    return toy.BaryToyNet(width=4, **kwargs)


@torch.no_grad()
def test_outputs_are_the_barycenter_and_its_residual() -> None:
    model = net()
    out = model(image())
    assert model.has_barycenter and not toy.ToyNet().has_barycenter
    assert out.barycenter.shape == out.residual.shape == out.source_latent.shape
    assert torch.equal(out.residual, out.source_latent - out.barycenter)
    # z and b share the head's norm: each pixel's channels have mean about 0 (weight 1, bias 0)
    torch.testing.assert_close(out.barycenter.mean(1), torch.zeros_like(out.barycenter[:, 0]))


@torch.no_grad()
def test_skip_corrections_reach_the_decoder() -> None:
    model, x = net(), image(12, 16)
    latent, skips = model.encode(x)
    head = model.head(latent, skips)
    assert torch.equal(head.features, torch.cat([head.barycenter, head.residual], 1))
    corrected = model(x).restored
    model.head.residual_skip_scale = 0.0
    plain = model(x).restored
    assert (corrected - plain).abs().max() > 1e-3
    # scale 0: e_k + 0 * s_k is e_k exactly, so the output is the backbone's decode of cat[b, r]
    assert torch.equal(plain, model.decode(head.features, skips) + x)


@torch.no_grad()
def test_init_identity_returns_the_input_exactly() -> None:
    model, x = net(), image(9, 13)
    model.init_identity()
    assert torch.equal(model(x).restored, x)


@torch.no_grad()
def test_padding_follows_the_backbone_stride() -> None:
    model, x = net(), image(10, 14)  # stride 4: padded to 12 x 16 (stride 8 would give 16 x 16)
    out = model(x)
    assert out.restored.shape == x.shape and out.source_latent.shape == (2, 16, 3, 4)
    padded = torch.nn.functional.pad(x, (0, 2, 0, 2), mode="reflect")
    assert torch.equal(out.restored, model.forward_padded(padded).restored[..., :10, :14])


def test_gradients_reach_the_barycenter_map() -> None:
    model = net()
    model(image()).restored.square().mean().backward()
    grads = [p.grad for p in model.head.barycenter_map.parameters()]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


def test_registered_from_user_code_and_rebuilt_from_primitives() -> None:
    model = create_model("my-bary-net", width=4)
    config = json.loads(json.dumps(model_config(model)))
    assert config == {"in_channels": 3, "width": 4, "residual_skip_scale": 0.8}
    clone = toy.BaryToyNet(**config)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    clone.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    x = image()
    with torch.no_grad():
        assert torch.equal(clone(x).restored, model(x).restored)


def test_registering_again() -> None:
    importlib.reload(toy)  # the same definition again replaces its entry
    assert "my-bary-net" in list_models()
    assert type(create_model("my-bary-net", width=4)) is toy.BaryToyNet

    class Other(toy.ToyNet):
        pass

    with pytest.raises(ValueError, match="'my-bary-net' is already registered"):
        register_model("my-bary-net")(Other)


def test_widths_are_checked_when_the_head_is_attached() -> None:
    backbone = toy.ToyNet(width=4)  # its decoder takes the latent's 16 channels, not cat[b, r]
    head = BarycenterHead(16, (8, 4), 1, 1, (0, 1), (1, 1), 2.0)
    with pytest.raises(ValueError, match=r"build the backbone with decoder_in_channels=32"):
        backbone.attach_head(head)
    with pytest.raises(ValueError, match=r"skips of \[8, 4\] channels, the backbone's are"):
        toy.ToyNet(width=8).attach_head(BarycenterHead(32, (8, 4), 1, 1, (0, 1), (1, 1)))
    with pytest.raises(ValueError, match=r"residual_blocks needs one value per skip \(2\)"):
        BarycenterHead(16, (8, 4))  # the paper's three stages on a two-level backbone


def test_the_head_on_a_library_backbone() -> None:
    # The Restormer preset with the head: any EncoderDecoder carries it by the same two lines.
    torch.manual_seed(0)
    backbone = create_model(
        "restormer-tiny", decoder_in_channels=BarycenterHead.feature_channels(96)
    )
    assert isinstance(backbone, EncoderDecoder)
    backbone.attach_head(
        BarycenterHead(96, backbone.skip_channels, 1, 8, (0, 1, 1), (4, 4, 2), 2.0)
    )
    out = backbone(image(16, 16))
    assert torch.equal(out.residual, out.source_latent - out.barycenter)
