"""Weights in the Hugging Face Hub's folder layout: ``config.json``, ``model.safetensors``, a card.

A folder written by :func:`write_hub_folder` holds what a Hub model repository holds:

- ``config.json``: ``{"model": <registry name>, "config": {<constructor arguments>}}`` (the
  same content as the JSON sidecar of an exported ``.safetensors``), plus ``"library": "baryir"``;
- ``model.safetensors`` (or shards and ``model.safetensors.index.json`` for very large models),
  written by ``huggingface_hub.save_torch_model``;
- ``README.md``: a model card (``huggingface_hub.ModelCard``) with the model, the training
  recipe and data, and the evaluation table when one is given.

:func:`read_hub_folder` reads it back (``huggingface_hub.load_state_dict_from_file``), so
:func:`baryir.models.load_model` and every ``--ckpt`` take such a folder, and
:func:`push_to_hub` uploads it (``huggingface_hub.HfApi``). ``huggingface_hub`` is an optional
dependency: ``pip install "baryir[hub]"``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from torch import Tensor, nn

__all__ = [
    "CONFIG_NAME",
    "is_hub_folder",
    "model_card",
    "push_to_hub",
    "read_hub_folder",
    "write_hub_folder",
]

CONFIG_NAME = "config.json"
WEIGHTS_PATTERN = "model{suffix}.safetensors"


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise ImportError(
            "the Hub folder layout needs huggingface_hub: pip install 'baryir[hub]'"
        ) from None
    return huggingface_hub


def is_hub_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder with ``config.json`` and ``model*.safetensors``."""
    path = Path(path)
    return path.is_dir() and (path / CONFIG_NAME).is_file() and any(path.glob("model*.safetensors"))


def read_hub_folder(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The state dict (every shard) and ``{"model", "config"}`` of a Hub folder.

    Raises:
        ValueError: ``config.json`` is not a baryir config (no ``model`` name).
    """
    path = Path(path)
    config = json.loads((path / CONFIG_NAME).read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not isinstance(config.get("model"), str):
        raise ValueError(f"{path / CONFIG_NAME}: not a baryir config (no 'model' name)")
    hub = _hub()
    index = path / "model.safetensors.index.json"
    files = (
        sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        if index.is_file()
        else ["model.safetensors"]
    )
    state_dict: dict[str, Tensor] = {}
    for name in files:
        state_dict.update(hub.load_state_dict_from_file(path / name, map_location="cpu"))
    return state_dict, {"model": config["model"], "config": dict(config.get("config") or {})}


def model_card(
    name: str,
    config: dict[str, Any],
    parameters: int,
    recipe: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    results: str | None = None,
) -> str:
    """The card's Markdown (with the Hub's YAML header): what the model is, how it was trained,
    what it scored, and how to use it."""
    hub = _hub()
    lines = [
        f"# baryir: `{name}`",
        "",
        "All-in-one image restoration in a learned Wasserstein barycenter space (BaryIR, "
        "[arXiv 2602.23169](https://arxiv.org/abs/2602.23169)), trained with baryir.",
        "",
        f"- Network: `{name}`, {parameters:,} parameters, arguments `{json.dumps(config)}`",
    ]
    for title, settings in (("Training recipe", recipe), ("Training data", data)):
        if settings:
            lines += ["", f"{title}:", ""]
            lines += [
                f"- `{key}`: `{json.dumps(value, default=str)}`"
                for key, value in sorted(settings.items())
            ]
    usage = [
        "## Use",
        "",
        "```bash",
        "pip install baryir",
        "baryir restore photo.png --ckpt THIS_FOLDER --output restored/",
        "```",
        "",
        "```python",
        "from baryir.models import load_model",
        "",
        'model = load_model("THIS_FOLDER")',
        "```",
    ]
    lines += ["", *usage, ""]
    if results:
        lines += ["## Evaluation", "", results.strip(), ""]
    card_data = hub.ModelCardData(
        library_name="baryir", license="mit", tags=["image-restoration", "baryir"]
    )
    template = "---\n{{ card_data }}\n---\n\n" + "\n".join(lines)
    return str(hub.ModelCard.from_template(card_data, template_str=template).content)


def write_hub_folder(
    model: nn.Module, folder: str | Path, name: str, config: dict[str, Any], card: str
) -> Path:
    """Write ``model`` in the Hub layout into ``folder`` (which must not hold files yet).

    Written into a temporary folder beside it, then renamed: ``folder`` is complete or absent.

    Raises:
        FileExistsError: ``folder`` exists and is not empty.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FileExistsError(f"{folder} exists and is not an empty folder; choose another")
    hub = _hub()
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        hub.save_torch_model(model, tmp, metadata={"model": name, "format": "pt"})
        record = {"library": "baryir", "model": name, "config": config}
        (tmp / CONFIG_NAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        hub.ModelCard(card).save(tmp / "README.md")
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def push_to_hub(folder: str | Path, repo_id: str, private: bool = False) -> str:
    """Upload a Hub folder to ``repo_id`` (created if needed; needs a network and a token,
    ``huggingface-cli login``); returns the commit URL."""
    folder = Path(folder)
    if not is_hub_folder(folder):
        raise FileNotFoundError(f"{folder} is not a Hub folder (config.json + model.safetensors)")
    api = _hub().HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    return str(api.upload_folder(folder_path=folder, repo_id=repo_id))
