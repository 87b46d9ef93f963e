"""The ``baryir`` command, the one module of the command line.

- ``baryir {fit,validate,test,predict} --config CONFIG.yaml``: :class:`BaryIRCLI`, Lightning's
  ``LightningCLI`` with the data's sources linked to the model and :func:`resilience_defaults`.
- ``baryir {restore,convert,export,suite,compare,study} ...``: the commands that run without a
  Trainer. Each is a typed function ``run`` in :mod:`baryir.commands` (imported only when used,
  so ``baryir restore --help`` starts fast); :func:`command_parser` makes its jsonargparse parser
  from the signature and docstring, and :func:`run_command` is the one error path: an argument
  error, a missing file or a bad value ends in one line ``baryir <command>: error: ...`` and
  exit status 2.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import typing
import warnings
from argparse import Action
from collections.abc import Callable, Sequence
from types import NoneType, UnionType
from typing import Any, NoReturn

import docstring_parser
from jsonargparse import ArgumentParser, DefaultHelpFormatter
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

__all__ = [
    "COMMANDS",
    "BaryIRArgumentParser",
    "BaryIRCLI",
    "command_parser",
    "main",
    "resilience_defaults",
    "run_command",
]

COMMANDS: dict[str, str] = {
    name: f"baryir.commands.{name}"
    for name in ("restore", "convert", "export", "suite", "compare", "study")
}
"""Commands that run without a Trainer: name -> module holding ``run(...) -> int``."""

DESCRIPTION = (
    "baryir: all-in-one image restoration in a Wasserstein barycenter space.\n"
    "Training and evaluation: baryir {fit,validate,test,predict} --config CONFIG.yaml\n"
    "Other commands: baryir restore INPUT... --ckpt CKPT --output DIR | "
    "baryir convert RELEASED.pth OUT.safetensors | baryir export CKPT OUT.safetensors | "
    "baryir suite --config configs/suites/ood.yaml --ckpt CKPT | "
    "baryir compare --ckpt CKPT --sets CBSD68:25 Rain100H --output DIR | "
    "baryir study --config configs/study/smoke.yaml (each takes --help)"
)


class _OneLineErrors:
    """Argument errors as one line (what is wrong and where), not a usage dump; exit status 2."""

    prog: str
    exit_on_error: bool

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)  # type: ignore[misc]
        prog = self.prog.replace(" [options]", "")
        text = " ".join(message.split()) or "invalid arguments"
        if len(text) > 400:
            text = text[:397] + "..."
        sys.stderr.write(f"{prog}: error: {text} (see {prog} --help)\n")
        raise SystemExit(2)


class BaryIRArgumentParser(_OneLineErrors, LightningArgumentParser):
    """LightningCLI's parser with one-line errors."""


class _HelpFormatter(DefaultHelpFormatter):
    """jsonargparse's help, saying ``Path`` for a ``pathlib.Path`` argument."""

    def _get_type_str(self, action: Action) -> str | None:
        type_str = super()._get_type_str(action)
        return type_str.replace("<class 'Path'>", "Path") if type_str else type_str


class CommandParser(_OneLineErrors, ArgumentParser):
    """The parser of a command without a Trainer, with one-line errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, formatter_class=_HelpFormatter, **kwargs)


class BaryIRCLI(LightningCLI):
    """LightningCLI with the number of degradation sources linked from the data to the model,
    and the test report (:class:`~baryir.evaluation.report.TestReport`, ``--report.*``).

    ``test`` defaults to ``--verbose false``: the task's report prints the one results table
    (restored and input PSNR/SSIM, share made worse), so Lightning's per-dataloader listing of
    the same numbers is left out unless asked for.
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        from baryir.evaluation.report import TestReport

        parser.link_arguments("data.tasks", "model.num_sources", compute_fn=count_sources)
        parser.add_lightning_class_args(TestReport, "report")

    def _prepare_subcommand_parser(
        self, klass: type, subcommand: str, **kwargs: Any
    ) -> LightningArgumentParser:
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        if subcommand == "test":
            parser.set_defaults(verbose=False)
        return parser


def count_sources(tasks: Sequence[str] | None) -> int:
    """Number of distinct degradation sources (potentials) among the selected tasks."""
    from baryir.data.datamodule import DEFAULT_TASKS
    from baryir.data.degradation_tasks import resolve_tasks

    return len({task.source for task in resolve_tasks(tasks or DEFAULT_TASKS)})


def resilience_defaults() -> dict[str, list[Any]]:
    """Atomic weights-only checkpoint IO, RNG states in checkpoints, save-and-stop on SIGTERM.

    The checkpoint IO is given by ``class_path`` (a config value that ``--print_config`` and
    the saved ``config.yaml`` show, and a config can replace), the callbacks as instances
    (LightningCLI adds them to those of the config).
    """
    from baryir.tasks.resilience import PreemptionCheckpoint, RNGStateCallback

    return {
        "plugins": [{"class_path": "baryir.io.checkpoint_io.AtomicCheckpointIO"}],
        "callbacks": [RNGStateCallback(), PreemptionCheckpoint()],
    }


def _list_item(hint: Any) -> Any | None:
    """The item type when ``hint`` is ``list[X]`` or ``list[X] | None``, else ``None``."""
    union = typing.get_origin(hint) in (typing.Union, UnionType)
    options = [a for a in (typing.get_args(hint) if union else (hint,)) if a is not NoneType]
    if len(options) != 1 or typing.get_origin(options[0]) is not list:
        return None
    return typing.get_args(options[0])[0]


def command_parser(command: Callable[..., int], prog: str) -> CommandParser:
    """The jsonargparse parser of ``command``, made from its signature and docstring.

    Positional parameters are positional arguments; keyword-only ones are ``--dashed-name``
    options, required when they have no default. ``bool`` parameters are flags, ``list[X]``
    takes one or more values; every other type hint is validated by jsonargparse (``Path``,
    ``Literal``, ``PositiveInt``, ``X | None``...). The help of each argument is its line in
    the docstring's ``Args:`` section.
    """
    doc = docstring_parser.parse(inspect.getdoc(command) or "")
    helps = {param.arg_name: (param.description or "").rstrip(".") for param in doc.params}
    description = "\n\n".join(filter(None, (doc.short_description, doc.long_description)))
    parser = CommandParser(prog=prog, description=description)
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
    """Parse ``argv`` for the command ``name`` and run it; its exit status.

    ``OSError`` and ``ValueError`` (missing files, unreadable or unfit weights, bad configs)
    end in one line on stderr and exit status 2.
    """
    command: Callable[..., int] = importlib.import_module(COMMANDS[name]).run
    prog = f"baryir {name}"
    args = command_parser(command, prog).parse_args(list(argv))
    try:
        return command(**args.as_dict())
    except (OSError, ValueError) as error:
        print(f"{prog}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``baryir`` console script; ``args`` defaults to ``sys.argv[1:]``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in COMMANDS:
        return run_command(argv[0], argv[1:])
    from baryir.data import RestorationDataModule
    from baryir.io.checkpoint import CheckpointError
    from baryir.io.image import ImageReadError
    from baryir.tasks import NonFiniteLossError, RestorationTask

    try:
        with warnings.catch_warnings():
            # main(args) is how tests and notebooks call us; Lightning warns when sys.argv is set.
            warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
            # Lightning's own use of a torch pytree API that torch deprecates: nothing to act on
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)`")
            BaryIRCLI(
                RestorationTask,
                RestorationDataModule,
                args=None if args is None else argv,
                parser_class=BaryIRArgumentParser,
                save_config_kwargs={"overwrite": True},
                parser_kwargs={"prog": "baryir", "description": DESCRIPTION},
                trainer_defaults=resilience_defaults(),
            )
    except (ImageReadError, CheckpointError, NonFiniteLossError) as error:
        # bad input files and diverged runs: one line naming the file, not a traceback
        print(f"baryir: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
