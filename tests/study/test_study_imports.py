"""The study and its report are users of the library: they import only names the library
exports (each one in the ``__all__`` of the module it comes from), so the library can change
anything else; and the installed package never imports the report (``studies/``)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import baryir.study

STUDY = Path(baryir.study.__file__).parent
REPORT = Path(__file__).resolve().parents[2] / "studies"
PACKAGE = STUDY.parent


def _library_imports(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` of every ``from baryir.X import name`` outside the study package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        module = node.module if isinstance(node, ast.ImportFrom) else None
        if module and module.startswith("baryir") and not module.startswith("baryir.study"):
            found += [(module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize(
    "path", [*sorted(STUDY.glob("*.py")), *sorted(REPORT.rglob("*.py"))], ids=lambda p: p.name
)
def test_the_study_imports_exported_names_only(path: Path) -> None:
    for module, name in _library_imports(path):
        exported = getattr(importlib.import_module(module), "__all__", None)
        assert exported is not None, f"{path.name}: {module} has no __all__ (public names)"
        assert name in exported, f"{path.name}: {module}.{name} is not exported by {module}"


def test_the_check_sees_a_private_name(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("from baryir.data.datamodule import _mix_from_old_names\n")
    ((module, name),) = _library_imports(source)
    assert name not in importlib.import_module(module).__all__


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_the_package_does_not_import_the_report(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not [n for n in names if n.split(".")[0] in ("report", "studies")], path
