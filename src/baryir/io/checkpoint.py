"""Load and save weights safely: ``torch.load(weights_only=True)`` only, safetensors for export.

Formats read by :func:`load_weights`:

- ``.safetensors``: the tensors, plus a JSON config ``{"model": name, "config": {...}}`` from a
  sidecar file (``<file>.safetensors.json`` or ``<stem>.json``) or, failing that, from the
  safetensors header metadata written by :func:`export_weights`.
- ``.ckpt`` (Lightning) and ``.pth`` / ``.pt`` / ``.bin``: the state dict is the file itself
  when all its values are tensors, else the first of ``state_dict``, ``params_ema``, ``params``,
  ``model`` that is. Keys of a Lightning ``state_dict`` prefixed ``model.`` are kept with the
  prefix stripped (the other sub-modules, e.g. the potentials, are dropped); a DataParallel
  ``module.`` prefix is stripped. The config comes from ``hyper_parameters`` when it names the
  model (``model``: str, ``model_args``: dict).
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from baryir.io.atomic import atomic_path

__all__ = [
    "CheckpointError",
    "UnsafeCheckpointError",
    "atomic_save",
    "export_weights",
    "load_checkpoint",
    "load_weights",
]

log = logging.getLogger(__name__)

_TORCH_SUFFIXES = (".ckpt", ".pth", ".pt", ".bin")
_STATE_DICT_KEYS = ("state_dict", "params_ema", "params", "model")
_LIGHTNING_PREFIX = "model."


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
        needs = found.group(1) if found else "an object outside the weights-only allow-list"
        raise UnsafeCheckpointError(
            f"refusing to load {path}: it needs code to unpickle ({needs}); load only files you "
            "trust, e.g. re-save the state dict from a trusted environment"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise CheckpointError(f"cannot read checkpoint {path}: {first_line}") from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f"cannot read checkpoint {path}: expected a dict, got {type(checkpoint).__name__}"
        )
    return checkpoint


def _is_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, dict) and len(obj) > 0 and all(isinstance(v, Tensor) for v in obj.values())
    )


def _strip_prefix(state_dict: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k.removeprefix(prefix): v for k, v in state_dict.items()}


def _torch_state_dict(checkpoint: dict[str, Any], path: Path) -> dict[str, Tensor]:
    if _is_state_dict(checkpoint):
        state_dict = checkpoint
    else:
        found = next(
            (checkpoint[k] for k in _STATE_DICT_KEYS if _is_state_dict(checkpoint.get(k))), None
        )
        if found is None:
            raise CheckpointError(
                f"no state dict in {path}: expected tensors at the top level or under one of "
                f"{list(_STATE_DICT_KEYS)}, found keys {sorted(checkpoint)[:10]}"
            )
        state_dict = found
    if "state_dict" in checkpoint and any(k.startswith(_LIGHTNING_PREFIX) for k in state_dict):
        dropped = [k for k in state_dict if not k.startswith(_LIGHTNING_PREFIX)]
        if dropped:
            log.debug("%s: dropped %d keys outside %r", path, len(dropped), _LIGHTNING_PREFIX)
        state_dict = {
            k.removeprefix(_LIGHTNING_PREFIX): v
            for k, v in state_dict.items()
            if k.startswith(_LIGHTNING_PREFIX)
        }
    if all(k.startswith("module.") for k in state_dict):
        state_dict = _strip_prefix(state_dict, "module.")
    return state_dict


def _hparams_config(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    hparams = checkpoint.get("hyper_parameters")
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


def load_weights(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any] | None]:
    """Load a state dict and, where the file carries one, its model config.

    Args:
        path: ``.safetensors``, ``.ckpt``, ``.pth``, ``.pt`` or ``.bin`` (see the module docstring).

    Returns:
        ``(state_dict, config)``: tensors on the CPU; ``config`` is
        ``{"model": name, "config": {...}}`` or ``None`` when the file does not say.

    Raises:
        FileNotFoundError, UnsafeCheckpointError, CheckpointError.
    """
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            state_dict = load_file(path, device="cpu")
            config = _safetensors_config(path)
        except SafetensorError as error:
            raise CheckpointError(f"cannot read safetensors file {path}: {error}") from None
        return state_dict, config
    if suffix in _TORCH_SUFFIXES:
        checkpoint = load_checkpoint(path)
        return _torch_state_dict(checkpoint, path), _hparams_config(checkpoint)
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
    with atomic_path(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def atomic_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj, path)`` atomically (temporary file, then ``os.replace``)."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
