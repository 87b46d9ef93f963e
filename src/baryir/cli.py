"""The ``baryir`` command, the one module of the command line.

- ``baryir {fit,validate,test,predict} --config CONFIG.yaml``: Lightning's commands
  (:func:`baryir.lightning_cli.run_trainer`: ``LightningCLI`` with the data's sources linked to
  the model, :func:`resilience_defaults` and the checks of :mod:`baryir.tasks.preflight` before
  any work starts).
- ``baryir {restore,convert,export,suite,compare,study,app} ...``: the commands that run without
  a Trainer. Each is a typed function ``run`` in :mod:`baryir.commands` (imported only when used,
  so ``baryir restore --help`` starts fast); :func:`command_parser` makes its parser from the
  signature and docstring.

One parser class for all of them (:class:`~baryir.lightning_cli.BaryIRArgumentParser`,
jsonargparse) and one error path (:func:`baryir.errors.run_guarded`): an argument error, a
missing or damaged file, a bad value, a full disk or too little memory ends in one line
``baryir <command>: error: ...`` (and a hint where one helps), exit status 2 for a bad command
line, config or input and 1 for a run that failed while working (full disk, out of memory,
diverged); a bug keeps its traceback (``BARYIR_TRACEBACK=1`` shows it for every error).
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing
from collections.abc import Callable, Sequence
from types import NoneType, UnionType
from typing import Any

import docstring_parser

from baryir.errors import UsageError, run_guarded
from baryir.lightning_cli import (
    ERRORS_EPILOG,
    BaryIRArgumentParser,
    BaryIRCLI,
    count_sources,
    resilience_defaults,
    run_trainer,
)

__all__ = [
    "COMMANDS",
    "BaryIRArgumentParser",
    "BaryIRCLI",
    "command_parser",
    "count_sources",
    "main",
    "resilience_defaults",
    "run_command",
]

COMMANDS: dict[str, str] = {
    name: f"baryir.commands.{name}"
    for name in ("restore", "convert", "export", "suite", "compare", "study", "app")
}
"""Commands that run without a Trainer: name -> module holding ``run(...) -> int``."""

DESCRIPTION = (
    "baryir: all-in-one image restoration in a Wasserstein barycenter space.\n"
    "Training and evaluation: baryir {fit,validate,test,predict} --config CONFIG.yaml\n"
    "Other commands: baryir restore INPUT... --ckpt CKPT --output DIR | "
    "baryir convert RELEASED.pth OUT.safetensors | baryir export CKPT OUT.safetensors | "
    "baryir suite --config ood --ckpt CKPT | "
    "baryir compare --ckpt CKPT --sets CBSD68:25 Rain100H --output DIR | "
    "baryir study --config configs/study/smoke.yaml | baryir app --ckpt CKPT (each takes --help)\n"
    "Errors are one line (exit status 2: bad command line, config or input; 1: failed while "
    "working: full disk, out of memory, diverged); set BARYIR_TRACEBACK=1 to see the traceback."
)


def _list_item(hint: Any) -> Any | None:
    """The item type when ``hint`` is ``list[X]`` or ``list[X] | None``, else ``None``."""
    union = typing.get_origin(hint) in (typing.Union, UnionType)
    options = [a for a in (typing.get_args(hint) if union else (hint,)) if a is not NoneType]
    if len(options) != 1 or typing.get_origin(options[0]) is not list:
        return None
    return typing.get_args(options[0])[0]


def command_parser(command: Callable[..., int], prog: str) -> BaryIRArgumentParser:
    """The parser of ``command``, made from its signature and docstring.

    Positional parameters are positional arguments; keyword-only ones are ``--dashed-name``
    options, required when they have no default. ``bool`` parameters are flags, ``list[X]``
    takes one or more values; every other type hint is validated by jsonargparse (``Path``,
    ``Literal``, ``PositiveInt``, ``X | None``...). The help of each argument is its line in
    the docstring's ``Args:`` section. (jsonargparse's own ``add_function_arguments`` would
    name options ``--tile_overlap`` and take ``--overwrite true``: the flags users know would
    change.)
    """
    doc = docstring_parser.parse(inspect.getdoc(command) or "")
    helps = {param.arg_name: (param.description or "").rstrip(".") for param in doc.params}
    description = "\n\n".join(filter(None, (doc.short_description, doc.long_description)))
    parser = BaryIRArgumentParser(prog=prog, description=description, epilog=ERRORS_EPILOG)
    hints = typing.get_type_hints(command)
    for name, param in inspect.signature(command).parameters.items():
        hint, kwargs = hints[name], {"help": helps.get(name)}
        if hint is bool:
            kwargs["action"] = "store_true"
        elif (item := _list_item(hint)) is not None:
            kwargs.update(type=item, nargs="+")
        else:
            kwargs["type"] = hint
        if param.kind is not param.KEYWORD_ONLY:
            parser.add_argument(name, **kwargs)
            continue
        if param.default is param.empty:
            kwargs["required"] = True
        elif hint is not bool:
            kwargs["default"] = param.default
        parser.add_argument(f"--{name.replace('_', '-')}", **kwargs)
    return parser


def run_command(name: str, argv: Sequence[str]) -> int:
    """Parse ``argv`` for the command ``name`` and run it on the one error path
    (:func:`baryir.errors.run_guarded`); its exit status."""
    command: Callable[..., int] = importlib.import_module(COMMANDS[name]).run
    prog = f"baryir {name}"
    args = command_parser(command, prog).parse_args(list(argv))
    return run_guarded(prog, lambda: command(**args.as_dict()))


LIGHTNING_COMMANDS = ("fit", "validate", "test", "predict")
"""The subcommands of :class:`~baryir.lightning_cli.BaryIRCLI`; the others are :data:`COMMANDS`."""


def _unknown_command(name: str) -> int:
    known = ", ".join([*LIGHTNING_COMMANDS, *COMMANDS])
    raise UsageError(f"unknown command {name!r}: choose from {known} (see baryir --help)")


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``baryir`` console script; ``args`` defaults to ``sys.argv[1:]``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in COMMANDS:
        return run_command(argv[0], argv[1:])
    if argv and not argv[0].startswith("-") and argv[0] not in LIGHTNING_COMMANDS:
        return run_guarded("baryir", lambda: _unknown_command(argv[0]))
    prog = f"baryir {argv[0]}" if argv and not argv[0].startswith("-") else "baryir"
    given = None if args is None else argv
    return run_guarded(prog, lambda: run_trainer(given, resilience_defaults(), DESCRIPTION))


if __name__ == "__main__":
    raise SystemExit(main())
