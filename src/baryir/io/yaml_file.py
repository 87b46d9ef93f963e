"""Read a YAML configuration file whose top level is a mapping, with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["read_yaml_mapping"]


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
