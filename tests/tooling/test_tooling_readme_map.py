"""The README's map of the package ("Where the code lives") names every module, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "src" / "baryir"


def map_entries(readme: Path = REPO / "README.md") -> dict[str, str]:
    """``{top-level entry ("models/", "cli.py"): its text}`` from the map's fenced block."""
    text = readme.read_text()
    block = text.split("## Where the code lives", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    current = None
    for line in block.splitlines():
        match = re.match(r"^  (\S+)\s", line + " ")
        if not line.startswith(" "):
            current = None
        elif match and not line.startswith("   "):
            current = match.group(1)
            entries[current] = line
        elif current is not None:
            entries[current] += "\n" + line
    return entries


def modules(folder: Path) -> set[str]:
    """The modules (``x.py``) and subpackages (``x/``) below ``folder``, at any depth."""
    names = set()
    for path in folder.rglob("*"):
        if "__pycache__" in path.parts or path.name == "__init__.py":
            continue
        if path.suffix == ".py":
            names.add(path.name)
        elif path.is_dir() and (path / "__init__.py").exists():
            names.add(f"{path.name}/")
    return names


def named(text: str) -> set[str]:
    """The ``x.py`` and ``x/`` names a map entry mentions."""
    return set(re.findall(r"\b[a-z_][a-z0-9_]*\.py\b", text)) | set(
        re.findall(r"\b([a-z_][a-z0-9_]*/)", text)
    )


def test_every_package_has_an_entry() -> None:
    entries = map_entries()
    packages = {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    top_modules = {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    missing = (packages | top_modules) - set(entries) - {"__main__.py"}
    assert not missing, f"the README's map leaves out {sorted(missing)}"


def test_each_entry_names_its_modules_and_no_others() -> None:
    for entry, text in map_entries().items():
        folder = PACKAGE / entry.rstrip("/")
        if not entry.endswith("/") or not folder.is_dir():
            continue
        actual = modules(folder)
        mentioned = named(text) - {entry}
        assert not actual - mentioned, f"{entry}: the map leaves out {sorted(actual - mentioned)}"
        extra = sorted(mentioned - actual)
        assert not extra, f"{entry}: the map names {extra}, which are not in the tree"


def test_named_finds_modules_and_folders() -> None:
    assert named("layers/ (attention.py), registry.py (create_model); 3/4 photos") == {
        "layers/",
        "attention.py",
        "registry.py",
    }
