"""Read YAML configuration files (suites, studies) into dataclasses checked by jsonargparse."""

from __future__ import annotations

from argparse import ArgumentError
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from jsonargparse import ArgumentParser

__all__ = ["parse_dataclass", "read_yaml_mapping"]


def read_yaml_mapping(path: str | Path, kind: str) -> dict[str, Any]:
    """The mapping in ``path``, with ``name`` defaulting to the file stem.

    Args:
        path: the YAML file.
        kind: what the file is ("suite", "study config"), for the missing-file message.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ValueError: the file is not valid YAML or its top level is not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{kind} not found: {path}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    config.setdefault("name", path.stem)
    return config


def parse_dataclass(
    cls: type, mapping: dict[str, Any], where: str, skip: Collection[str] = ()
) -> dict[str, Any]:
    """The arguments of ``cls`` in ``mapping``, checked by jsonargparse against its signature.

    Unknown keys (at any depth), missing required keys and values of the wrong type are errors;
    nested dataclasses are built. ``skip`` names fields left out of the check (the caller adds
    them, e.g. a config that another parser checks later).

    Returns:
        keyword arguments for ``cls`` (without ``skip``).

    Raises:
        ValueError: one line, starting with ``where``.
    """
    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: expected a mapping at the top level")
    parser = ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(cls, skip=set(skip))
    try:
        return parser.instantiate(parser.parse_object(mapping)).as_dict()
    except (ArgumentError, TypeError, ValueError) as error:
        raise ValueError(f"{where}: {' '.join(str(error).split())}") from None
