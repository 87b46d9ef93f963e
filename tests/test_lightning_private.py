"""The private Lightning (and jsonargparse) names of baryir: all in one module, all still there."""

from __future__ import annotations

import ast
from pathlib import Path

import lightning
from lightning.pytorch.callbacks import ModelCheckpoint

from baryir import lightning_private
from baryir.lightning_private import PRIVATE_NAMES, PrivateName, check_private_names

SRC = Path(lightning_private.__file__).resolve().parent


def test_every_private_name_is_in_the_installed_release() -> None:
    problems = check_private_names()
    assert not problems, "\n".join(problems)


def test_a_changed_name_is_reported_with_the_attribute_and_the_version(monkeypatch) -> None:
    gone = PrivateName("lightning.pytorch.callbacks.ModelCheckpoint._no_such_counter", "a test")
    moved = PrivateName("jsonargparse.DefaultHelpFormatter._get_type_str", "a test", ("self",))
    monkeypatch.setattr(lightning_private, "PRIVATE_NAMES", (gone, moved))
    problems = check_private_names()
    assert len(problems) == 2
    assert f"lightning {lightning.__version__}" in problems[0]
    assert "ModelCheckpoint._no_such_counter is gone" in problems[0]
    assert "takes ('self', 'action'), expected ('self',)" in problems[1]


def test_write_over_last_turns_the_version_counter_off() -> None:
    callback = ModelCheckpoint()
    lightning_private.write_over_last(callback)
    assert callback._enable_version_counter is False  # what the private name is for


def test_no_other_module_names_a_private_lightning_attribute() -> None:
    """Outside lightning_private.py, no attribute or import of a Lightning private name: the
    ones listed there, or any ``lightning`` import of a ``_name``."""
    listed = {name.where.rsplit(".", 1)[-1] for name in PRIVATE_NAMES}
    listed |= {"epoch_progress", "batch_progress"}
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "lightning_private.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in listed:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lightning"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                offenders += [f"{path.relative_to(SRC)}:{node.lineno} {p}" for p in private]
    assert not offenders, f"private Lightning names outside lightning_private.py: {offenders}"


def test_the_cli_overrides_no_private_lightning_method() -> None:
    from lightning.pytorch.cli import LightningCLI

    from baryir.lightning_cli import BaryIRCLI

    private = {name for name in vars(LightningCLI) if name.startswith("_")}
    overridden = sorted(private & set(vars(BaryIRCLI)) - {"__init__", "__module__", "__doc__"})
    assert not overridden, f"BaryIRCLI overrides private LightningCLI methods: {overridden}"
