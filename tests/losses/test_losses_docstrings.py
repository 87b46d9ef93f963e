"""The docstring examples of baryir.losses run and give what they show."""

import doctest
import importlib

import pytest
import torch

MODULES = ["contrastive", "cost", "objective", "orthogonality", "pixel", "potentials", "sinkhorn"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    torch.manual_seed(0)
    module = importlib.import_module(f"baryir.losses.{name}")
    result = doctest.testmod(module, extraglobs={"torch": torch}, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
