"""Write checkpoints in the authors' release format, without the authors' code.

The release's trainer saves ``torch.save({"epoch": e, "BaryIR": net, "Pots": potentials})``:
whole pickled modules whose classes live in its ``model_bary.py``. This builds the same
structure: a module tree whose state dict carries exactly the released parameter names (read
from ``shared/reference/official_barynet_state_dict.json``), holding the weights of one of
baryir's own networks renamed to those names, pickled while stand-in classes are registered as
``model_bary.*`` (and unregistered right after, so no code of that name exists when the file is
read). Leaves are torch's own ``nn.Conv2d``/``nn.Linear`` shells and digit-indexed nodes are
``nn.Sequential``, as in the release, so the pickle names torch classes as well as the authors'.

The potentials are built as the release builds them (``nn.Sequential(conv, LeakyReLU, Flatten,
Linear, Linear, LeakyReLU, Linear)`` per source), with a forward of their own.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch
from torch import Tensor, nn

from baryir.models import convert_official_state_dict

__all__ = [
    "ReleasedPotentials",
    "reference_names",
    "released_forward",
    "released_names",
    "released_network",
    "write_released_checkpoint",
]

NETWORK_KEY = "BaryNet(decoder=True)"
POTENTIALS_KEY = "Potentials(num_potentials=3, channels=384, size=128)"


def reference_names(reference: Path) -> dict[str, list[int]]:
    """Released BaryNet parameter names and shapes, as the reference file lists them."""
    return json.loads(reference.read_text())[NETWORK_KEY]


def released_names(reference: Path) -> dict[str, str]:
    """baryir's BaryNet name -> the released name, for every parameter the converter keeps.

    Found by running the converter on the released names: it returns the very tensor objects it
    was given, so each of our names points back at the released one.
    """
    released = {name: torch.empty(0) for name in reference_names(reference)}
    by_id = {id(tensor): name for name, tensor in released.items()}
    converted = convert_official_state_dict(released, "barynet")
    return {ours: by_id[id(tensor)] for ours, tensor in converted.items()}


class Block(nn.Module):
    """Stand-in for the release's own layer classes (``TransformerBlock``, ``Attention``...)."""


class BaryNet(nn.Module):
    """Root of the released network's module tree."""


class ReleasedPotentials(nn.Module):
    """The release's ``Potentials``: one ``nn.Sequential`` per source, indices 0/3/4/6 weighted.

    Shape:
        ``(B, C, P/8, P/8) -> (B, K)``: every potential on every sample.
    """

    def __init__(self, num_potentials: int, channels: int, patch_size: int) -> None:
        super().__init__()
        side = (patch_size // 8 + 2 - 4) // 4 + 1
        features = channels * side * side
        self.potentials = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(channels, channels, 4, stride=4, padding=1, groups=4, bias=False),
                nn.LeakyReLU(0.2),
                nn.Flatten(),
                nn.Linear(features, features // 4),
                nn.Linear(features // 4, 64),
                nn.LeakyReLU(0.2),
                nn.Linear(64, 1),
            )
            for _ in range(num_potentials)
        )

    def forward(self, b: Tensor) -> Tensor:
        return torch.cat([f(b) for f in self.potentials], dim=1)


def _leaf(params: dict[str, Tensor]) -> nn.Module:
    weight = params.get("weight")
    if weight is not None and set(params) <= {"weight", "bias"} and weight.ndim in (2, 4):
        shell = nn.Linear(1, 1) if weight.ndim == 2 else nn.Conv2d(1, 1, 1)
        shell.weight = nn.Parameter(weight)
        shell.bias = nn.Parameter(params["bias"]) if "bias" in params else None
        return shell
    leaf = Block()
    for name, tensor in params.items():
        leaf.register_parameter(name, nn.Parameter(tensor))
    return leaf


def _tree(state_dict: dict[str, Tensor], root: nn.Module) -> nn.Module:
    children: dict[str, dict[str, Tensor]] = {}
    for name, tensor in state_dict.items():
        head, dot, rest = name.partition(".")
        if dot:
            children.setdefault(head, {})[rest] = tensor
        else:
            root.register_parameter(head, nn.Parameter(tensor))
    for head, sub in children.items():
        if all("." not in name for name in sub):
            root.add_module(head, _leaf(sub))
        else:
            node = nn.Sequential() if all(k.split(".")[0].isdigit() for k in sub) else Block()
            root.add_module(head, _tree(sub, node))
    return root


def released_network(
    ours: nn.Module, reference: Path, generator: torch.Generator | None = None
) -> nn.Module:
    """The release's module tree holding ``ours``'s weights under the released names.

    The six 1x1 convs the release keeps but never uses get random weights of their listed shapes.
    """
    rename = released_names(reference)
    state = {rename[name]: tensor.detach().clone() for name, tensor in ours.state_dict().items()}
    for name, shape in reference_names(reference).items():
        if name not in state:
            state[name] = torch.randn(shape, generator=generator)
    ordered = {name: state[name] for name in reference_names(reference)}
    return _tree(ordered, BaryNet())


def released_forward(network: nn.Module, ours: nn.Module, reference: Path, x: Tensor) -> Tensor:
    """The released tree's output: ``ours``'s architecture run on the tree's own tensors."""
    back = {released: mine for mine, released in released_names(reference).items()}
    tensors = {back[n]: t for n, t in network.state_dict().items() if n in back}
    return torch.func.functional_call(ours, tensors, (x,))


def write_released_checkpoint(
    path: Path, network: nn.Module, potentials: nn.Module, epoch: int = 100
) -> Path:
    """``torch.save({"epoch", "BaryIR", "Pots"})`` with the classes named ``model_bary.*``."""
    module = types.ModuleType("model_bary")
    renamed = {BaryNet: "BaryNet", Block: "Block", ReleasedPotentials: "Potentials"}
    saved = {cls: (cls.__module__, cls.__qualname__) for cls in renamed}
    for cls, name in renamed.items():
        cls.__module__, cls.__qualname__ = "model_bary", name
        setattr(module, name, cls)
    sys.modules["model_bary"] = module
    try:
        torch.save({"epoch": epoch, "BaryIR": network, "Pots": potentials}, path)
    finally:
        del sys.modules["model_bary"]
        for cls, (mod, qualname) in saved.items():
            cls.__module__, cls.__qualname__ = mod, qualname
    return path
