"""Read checkpoints that pickle whole ``nn.Module`` objects (or a Lightning checkpoint whose
hyper-parameters are objects), without running any of their code.

The authors' trainer saves ``torch.save({"epoch": e, "BaryIR": net, "Pots": potentials})``:
whole modules whose classes live in their ``model_bary.py``. Plain ``torch.load`` would import
that file and call whatever the pickle names; ``weights_only=True`` (what
:func:`baryir.io.checkpoint.load_checkpoint` uses) refuses, rightly. Yet all a module's weights
are plain data in the pickle: its ``__dict__`` holds ``_parameters``, ``_buffers`` and
``_modules``, and the tensors are rebuilt by torch's own functions.

What torch offers does most of the work: its zip reader and its restricted unpickler
(``weights_only=True``, which only calls torch's tensor and storage rebuild functions and builds
plain containers), :func:`torch.serialization.get_unsafe_globals_in_checkpoint` (the names a
file references outside that allow-list) and :class:`torch.serialization.safe_globals`. The part
added here is what torch has no notion of: every class or function the file names outside the
allow-list is registered, for this one load, as an inert :class:`StandIn` subclass of that name.
Creating or building a stand-in only records its arguments and state; no code of the file's
naming is imported or run. A file that asks for one of them to be *called* while it is
unpickled (a ``__reduce__`` naming a callable: how a pickle runs ``builtins.exec``,
``subprocess.run``...) is refused as a whole, since a pickled module never needs that; names in
the modules torch blocks outright (``os``, ``sys``, ``posix``, ``nt``) are refused by torch.
The module trees found are then read back as the state dicts the modules would have returned
(parameters, then persistent buffers, then children, depth first, as
:meth:`torch.nn.Module.state_dict` does).
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = ["ModuleCheckpoint", "StandIn", "read_module_checkpoint", "module_state_dict"]

log = logging.getLogger(__name__)

_BLOCKED_MODULES = ("os", "sys", "posix", "nt")  # torch's unpickler refuses these whatever we say


class StandIn:
    """An inert object in place of a class or function a pickle names.

    Instantiating (``NEWOBJ``, how a module is pickled) and building (``BUILD``) only store the
    arguments and the state: ``args`` and ``state`` (a module's ``__dict__``). Calling
    (``REDUCE``, what a ``__reduce__`` naming a callable asks for) stores the arguments and marks
    the class ``called``, so that the file is refused. ``global_name`` is the ``module.name`` the
    file referenced.
    """

    global_name = "?"
    called = False

    def __new__(cls, *args: Any, **kwargs: Any) -> StandIn:
        instance = super().__new__(cls)
        instance.__dict__.update(args=args, state={})
        return instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        type(self).called = True

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        self.state = state if isinstance(state, dict) else {"state": state}

    def __repr__(self) -> str:
        return f"<{self.global_name} (not loaded: code)>"

    @property
    def is_module(self) -> bool:
        """Whether the state is an ``nn.Module``'s: ``_parameters``, ``_buffers``, ``_modules``."""
        return all(
            isinstance(self.state.get(key), Mapping)
            for key in ("_parameters", "_buffers", "_modules")
        )


def _stand_in(global_name: str) -> type[StandIn]:
    module, _, name = global_name.rpartition(".")
    return type(name, (StandIn,), {"__module__": module, "global_name": global_name})


def module_state_dict(module: StandIn, prefix: str = "") -> dict[str, Tensor]:
    """The state dict a pickled module would return, read from its stand-in's state.

    Parameters and buffers that are ``None`` and buffers in ``_non_persistent_buffers_set`` are
    left out, as :meth:`torch.nn.Module.state_dict` does; a child that is not a module is
    skipped with a warning. Tensors are detached (no ``requires_grad``).
    """
    state_dict: dict[str, Tensor] = {}
    _collect(module, prefix, state_dict, ())
    return state_dict


def _collect(module: StandIn, prefix: str, out: dict[str, Tensor], path: tuple[int, ...]) -> None:
    state = module.state
    skip = state.get("_non_persistent_buffers_set") or set()
    for name, tensor in state["_parameters"].items():
        if isinstance(tensor, Tensor):
            out[prefix + name] = tensor.detach()
    for name, tensor in state["_buffers"].items():
        if isinstance(tensor, Tensor) and name not in skip:
            out[prefix + name] = tensor.detach()
    for name, child in state["_modules"].items():
        if child is None:
            continue
        if not (isinstance(child, StandIn) and child.is_module) or id(child) in path:
            log.warning("%s%s is not a module (%r); left out", prefix, name, child)
            continue
        _collect(child, f"{prefix}{name}.", out, (*path, id(module)))


class ModuleCheckpoint(dict):
    """The modules of a whole-module checkpoint as state dicts: ``{entry: state dict}``.

    The entry is the checkpoint's key (``"BaryIR"``, ``"Pots"``...), or ``""`` for a file that
    pickles one module on its own. ``classes`` maps each entry to the module class the file
    names (``model_bary.BaryNet``); ``stand_ins`` lists every name that was stood in for.
    """

    def __init__(
        self, states: dict[str, dict[str, Tensor]], classes: dict[str, str], stand_ins: list[str]
    ) -> None:
        super().__init__(states)
        self.classes = classes
        self.stand_ins = stand_ins

    def merged(self, source: str) -> dict[str, Tensor]:
        """All entries' tensors in one state dict (the release's names never collide).

        Raises:
            ValueError: two entries hold the same name.
        """
        merged: dict[str, Tensor] = {}
        for state_dict in self.values():
            clash = sorted(set(merged) & set(state_dict))
            if clash:
                raise ValueError(
                    f"{source}: the modules under {sorted(self)} share parameter names "
                    f"{clash[:5]}; cannot tell them apart"
                )
            merged.update(state_dict)
        return merged


def _modules_in(obj: Any) -> Iterator[tuple[str, StandIn]]:
    if isinstance(obj, StandIn) and obj.is_module:
        yield "", obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            if isinstance(value, StandIn) and value.is_module:
                yield str(key), value


def _lightning_state_dict(obj: Any) -> dict[str, Tensor] | None:
    """The tensors under ``state_dict`` of a Lightning checkpoint (it has
    ``pytorch-lightning_version``) whose other entries hold objects (hyper-parameters such as
    an ``argparse.Namespace``: inert stand-ins here), else ``None``."""
    if not isinstance(obj, Mapping) or "pytorch-lightning_version" not in obj:
        return None
    state_dict = obj.get("state_dict")
    if not isinstance(state_dict, Mapping):
        return None
    tensors = {str(k): v for k, v in state_dict.items() if isinstance(v, Tensor)}
    return tensors or None


def _reason(message: str) -> str:
    """The line of torch's weights-only error that says what was refused."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    after = [i + 1 for i, line in enumerate(lines) if "WeightsUnpickler error" in line]
    return lines[after[0]] if after and after[0] < len(lines) else lines[0] if lines else "?"


def read_module_checkpoint(path: str | Path) -> ModuleCheckpoint | None:
    """The module trees pickled in a torch file, as state dicts, running none of the file's code.

    Reads a module pickled on its own (``torch.save(net)``) or the top-level entries of a dict
    that are modules (``{"BaryIR": net, "Pots": potentials, "epoch": 9}``; other entries are
    ignored), or, when there is no module, the ``state_dict`` of a Lightning checkpoint whose
    hyper-parameters hold objects (AdaIR's, PromptIR's). Tensors are memory-mapped from the
    file (``mmap=True``), so a large file costs little memory until its tensors are copied.

    Returns:
        the modules' state dicts, or ``None`` when the file holds no module (something else
        needs code to unpickle: the caller's refusal stands).

    Raises:
        pickle.UnpicklingError: (one line: why) the file names a global from a module torch
            blocks (``os``, ``sys``...), asks for a call of anything outside torch's allow-list
            beside its modules, or uses an operation the restricted unpickler does not allow.
            Nothing was run or kept.
        ValueError: not a zip-format torch file (``torch.save`` since torch 1.6).
    """
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a zip-format torch file (the format of torch.save since 1.6); "
            "re-save it with a recent torch in a trusted environment"
        )
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    blocked = [n for n in names if n.split(".", 1)[0] in _BLOCKED_MODULES]
    if blocked:
        raise pickle.UnpicklingError(f"it names {blocked[0]}")
    stand_ins = [(_stand_in(name), name) for name in names]
    with torch.serialization.safe_globals(stand_ins):
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except pickle.UnpicklingError as error:
            raise pickle.UnpicklingError(_reason(str(error))) from None
    found = list(_modules_in(obj))
    lightning = None if found else _lightning_state_dict(obj)
    if not found and lightning is None:
        return None
    called = sorted(name for cls, name in stand_ins if cls.called)
    if called:
        raise pickle.UnpicklingError(
            f"it asks to call {', '.join(called)} while unpickled, which a pickled module never "
            "does"
        )
    if lightning is not None:
        return ModuleCheckpoint(
            {"state_dict": lightning}, {"state_dict": "Lightning"}, sorted(names)
        )
    checkpoint = ModuleCheckpoint(
        {entry: module_state_dict(module) for entry, module in found},
        {entry: module.global_name for entry, module in found},
        sorted(names),
    )
    log.info(
        "%s: read %s without running code (stand-ins for %d names)",
        path,
        ", ".join(f"{cls} under {entry!r}" for entry, cls in checkpoint.classes.items()),
        len(names),
    )
    return checkpoint
