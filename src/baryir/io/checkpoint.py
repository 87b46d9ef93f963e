"""Read and write weights files safely: ``torch.load(weights_only=True)`` only, safetensors out.

This module knows file formats, not networks (:func:`baryir.models.load_model` builds the network
from what :func:`load_weights` returns). Formats, recognised from the suffix:

- ``.safetensors``: the tensors, plus a JSON config ``{"model": name, "config": {...}}`` from a
  sidecar file (``<file>.safetensors.json`` or ``<stem>.json``) or, failing that, from the
  safetensors header metadata written by :func:`export_weights`.
- ``.ckpt``, ``.pth``, ``.pt``, ``.bin``: a torch file read by :func:`load_checkpoint`. A
  Lightning checkpoint of ``RestorationTask`` gives its network's weights through
  :func:`network_state_from_lightning` and its config from ``hyper_parameters`` (``model``: str,
  ``model_args``: dict); any other file (a raw or wrapped state dict, e.g. the authors' released
  ``.pth``) is unwrapped by :func:`unwrap_state_dict`.

Files are written through :func:`baryir.io.atomic.atomic_path` (temporary file, fsync, rename).
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from baryir.io.atomic import atomic_path, atomic_write_text
from baryir.io.hub import is_hub_folder, read_hub_folder
from baryir.io.module_pickle import read_module_checkpoint

__all__ = [
    "CheckpointError",
    "UnsafeCheckpointError",
    "atomic_save",
    "export_weights",
    "load_checkpoint",
    "load_weights",
    "network_state_from_lightning",
    "unwrap_state_dict",
]

log = logging.getLogger(__name__)

_TORCH_SUFFIXES = (".ckpt", ".pth", ".pt", ".bin")
_WRAPPER_KEYS = ("state_dict", "params_ema", "params", "model")
_PREFIXES = ("module.", "net.")  # DataParallel and the authors' training wrapper
_LIGHTNING_PREFIX = "model."
_EMA_PREFIX = "ema.module."  # RestorationTask.model, the network


class CheckpointError(ValueError):
    """A checkpoint or weights file is missing, corrupt or in an unknown format."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint needs arbitrary code to unpickle, so it was refused (nothing was run)."""


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a torch checkpoint on the CPU with ``weights_only=True``.

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: the pickle references code (a class or function outside
            PyTorch's allow-list); nothing in it is executed.
        CheckpointError: the file is not a readable torch checkpoint or not a dict.
    """
    path = Path(path)
    _check_file(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if found is None and not zipfile.is_zipfile(path):
            raise CheckpointError(
                f"cannot read checkpoint {path}: not a torch checkpoint (not a zip archive and "
                "not an older torch file)"
            ) from None
        needs = found.group(1) if found else "an object outside the weights-only allow-list"
        raise UnsafeCheckpointError(
            f"refusing to load {path}: it needs code to unpickle ({needs}); load only files you "
            "trust, e.g. re-save the state dict from a trusted environment"
        ) from None
    except Exception as error:  # any failure of the restricted reader: not a readable file
        text = str(error).strip()
        first_line = text.splitlines()[0] if text else ""
        if isinstance(error, KeyError | IndexError | TypeError | AttributeError) or not text:
            first_line = f"not a torch checkpoint ({type(error).__name__} {first_line})".strip()
        elif len(first_line) > 120:  # torch's zip reader explains at length: its first sentence
            first_line = first_line.split(". ")[0] + " (a damaged or cut file)"
        raise CheckpointError(f"cannot read checkpoint {path}: {first_line}") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f"cannot read checkpoint {path}: expected a dict, got {type(checkpoint).__name__}"
        )
    return checkpoint


def _tensors(mapping: Any) -> dict[str, Tensor]:
    if not isinstance(mapping, Mapping):
        return {}
    return {str(k): v for k, v in mapping.items() if isinstance(v, Tensor)}


def unwrap_state_dict(
    checkpoint: Mapping[str, Any], source: str = "checkpoint"
) -> dict[str, Tensor]:
    """The tensors of a saved state dict, however it is wrapped (the one unwrapper).

    Takes the first of ``state_dict``, ``params_ema``, ``params``, ``model`` that holds tensors,
    else the mapping itself; keeps the tensor entries; strips a ``module.`` or ``net.`` prefix
    that every key carries (DataParallel, the authors' training wrapper), repeatedly. Pure: no
    file is read (``source`` names the checkpoint in the error).

    Raises:
        CheckpointError: no tensors found.
    """
    state_dict = next(
        (found for key in _WRAPPER_KEYS if (found := _tensors(checkpoint.get(key)))),
        _tensors(checkpoint),
    )
    if not state_dict:
        raise CheckpointError(
            f"no state dict in {source}: expected tensors at the top level or under one of "
            f"{list(_WRAPPER_KEYS)}, found keys {sorted(map(str, checkpoint))[:10]}"
        )
    while prefix := next((p for p in _PREFIXES if all(k.startswith(p) for k in state_dict)), None):
        state_dict = {k.removeprefix(prefix): v for k, v in state_dict.items()}
    return state_dict


def _is_lightning(checkpoint: Mapping[str, Any]) -> bool:
    state_dict = checkpoint.get("state_dict")
    return isinstance(state_dict, Mapping) and any(
        str(k).startswith(_LIGHTNING_PREFIX) for k in state_dict
    )


def network_state_from_lightning(checkpoint: Mapping[str, Any]) -> dict[str, Tensor]:
    """The network's weights in a Lightning checkpoint of ``RestorationTask``.

    The entries of ``state_dict`` under ``ema.module.`` (the weight average, when the task kept
    one: ``ema_decay``) or else ``model.`` (the task's network), with the prefix stripped; the
    other sub-modules (the dual potentials, the raw weights beside an average) are left out.
    This is the one place where a training checkpoint's network weights are read: ``baryir
    restore/export/suite/compare``, ``create_model(..., weights=)`` and
    ``baryir.evaluate(path)`` all come here.
    """
    state_dict = checkpoint["state_dict"]
    prefix = (
        _EMA_PREFIX if any(k.startswith(_EMA_PREFIX) for k in state_dict) else _LIGHTNING_PREFIX
    )
    network = {k.removeprefix(prefix): v for k, v in state_dict.items() if k.startswith(prefix)}
    log.debug("dropped %d keys outside %r", len(state_dict) - len(network), prefix)
    return network


def _hparams_config(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    hparams = checkpoint.get("hyper_parameters")
    if isinstance(hparams, dict) and isinstance(hparams.get("model"), Mapping):
        return {"model": dict(hparams["model"]), "config": {}}  # a class path and its init_args
    if not isinstance(hparams, dict) or not isinstance(hparams.get("model"), str):
        return None
    model_args = hparams.get("model_args") or {}
    if not isinstance(model_args, dict):
        return None
    return {"model": hparams["model"], "config": dict(model_args)}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"cannot read weights config {path}: {error}") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"weights config {path} must hold a JSON object")
    return config


def _safetensors_config(path: Path) -> dict[str, Any] | None:
    for sidecar in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if sidecar.is_file():
            return _read_json(sidecar)
    with safe_open(path, framework="pt") as handle:
        metadata = handle.metadata() or {}
    if "model" not in metadata:
        return None
    try:
        config = json.loads(metadata.get("config", "{}"))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"bad config metadata in {path}: {error}") from None
    return {"model": metadata["model"], "config": config}


def _load_weights_checkpoint(path: Path) -> dict[str, Any]:
    """:func:`load_checkpoint`, or the modules of a whole-module file as ``{"state_dict": ...}``.

    A file refused by ``weights_only=True`` is read again by
    :func:`~baryir.io.module_pickle.read_module_checkpoint`; when it holds no module (or is not
    in torch's zip format) the refusal stands, and when it asks for code to be called the
    refusal names that code.
    """
    try:
        return load_checkpoint(path)
    except UnsafeCheckpointError as refusal:
        try:
            modules = read_module_checkpoint(path)
        except pickle.UnpicklingError as error:
            raise UnsafeCheckpointError(
                f"refusing to load {path}: it needs code to unpickle ({error}); load only files "
                "you trust; nothing in it was run"
            ) from None
        except ValueError:
            raise refusal from None
        except (RuntimeError, EOFError, OSError) as error:
            raise CheckpointError(f"cannot read checkpoint {path}: {error}") from None
        if modules is None:
            raise refusal from None
        try:
            return {"state_dict": modules.merged(str(path))}
        except ValueError as error:
            raise CheckpointError(str(error)) from None


def load_weights(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any] | None]:
    """Load a state dict and, where the file carries one, its model config.

    Args:
        path: ``.safetensors``, ``.ckpt``, ``.pth``, ``.pt`` or ``.bin`` (see the module
            docstring), or a folder in the Hugging Face Hub layout (:mod:`baryir.io.hub`).

    Returns:
        ``(state_dict, config)``: tensors on the CPU; ``config`` is
        ``{"model": name, "config": {...}}`` or ``None`` when the file does not say.

    Raises:
        FileNotFoundError, UnsafeCheckpointError, CheckpointError.
    """
    path = Path(path)
    if path.is_dir():
        if not is_hub_folder(path):
            raise CheckpointError(
                f"{path} is a folder but not a Hub model folder (config.json and "
                "model.safetensors, written by baryir export CKPT DIR)"
            )
        return read_hub_folder(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if path.name.lower().endswith(".ckpt.prev"):  # the previous last kept by the checkpoint IO
        suffix = ".ckpt"
    if suffix == ".safetensors":
        try:
            state_dict = load_file(path, device="cpu")
            config = _safetensors_config(path)
        except SafetensorError as error:
            raise CheckpointError(f"cannot read safetensors file {path}: {error}") from None
        return state_dict, config
    if suffix in _TORCH_SUFFIXES:
        checkpoint = _load_weights_checkpoint(path)
        if _is_lightning(checkpoint):
            return network_state_from_lightning(checkpoint), _hparams_config(checkpoint)
        return unwrap_state_dict(checkpoint, str(path)), _hparams_config(checkpoint)
    raise CheckpointError(
        f"unsupported weights format {path}: expected .safetensors or one of "
        f"{list(_TORCH_SUFFIXES)}"
    )


def export_weights(
    state_dict: dict[str, Tensor], path: str | Path, model_name: str, config: dict[str, Any]
) -> None:
    """Write ``state_dict`` to ``path`` (``.safetensors``) and the config to ``<stem>.json``.

    The sidecar holds ``{"model": model_name, "config": config}``; the same is stored in the
    safetensors header metadata. Both files are written atomically.

    Raises:
        ValueError: ``path`` is not ``.safetensors`` or ``config`` is not JSON-serialisable.
    """
    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        raise ValueError(f"export_weights: {path} must end in .safetensors")
    try:
        config_json = json.dumps(config, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"export_weights({path}): config is not JSON-serialisable: {error}"
        ) from None
    # clone: safetensors refuses tensors that share storage (tied weights)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    sidecar = {"model": model_name, "config": json.loads(config_json)}
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata={"model": model_name, "config": config_json})
    atomic_write_text(
        path.with_suffix(".json"), json.dumps(sidecar, indent=2, sort_keys=True) + "\n"
    )


def atomic_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj, path)`` through :func:`baryir.io.atomic.atomic_path`.

    On any error (or if the process dies) ``path`` keeps its previous content; the temporary
    file is removed when the error is a Python exception.
    """
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
