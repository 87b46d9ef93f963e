"""The ``baryir`` command, the one module of the command line.

- ``baryir {fit,validate,test,predict} --config CONFIG.yaml``: :class:`BaryIRCLI`, Lightning's
  ``LightningCLI`` with the data's sources linked to the model, :func:`resilience_defaults` and
  the checks of :mod:`baryir.tasks.preflight` before any work starts.
- ``baryir {restore,convert,export,suite,compare,study} ...``: the commands that run without a
  Trainer. Each is a typed function ``run`` in :mod:`baryir.commands` (imported only when used,
  so ``baryir restore --help`` starts fast); :func:`command_parser` makes its jsonargparse parser
  from the signature and docstring.

Every command has one error path (:mod:`baryir.errors`): an argument error, a missing or damaged
file, a bad value, a full disk or too little memory ends in one line ``baryir <command>: error:
...`` (and a hint where one helps), exit status 2 for a bad command line, config or input and 1
for a run that failed while working (full disk, out of memory, diverged); a bug keeps its
traceback (``BARYIR_TRACEBACK=1`` shows it for every error).
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

ERRORS_EPILOG = (
    "Errors are one line on stderr: exit status 2 for a bad command line, config or input, 1 "
    "for a run that failed while working. Set BARYIR_TRACEBACK=1 to see the traceback."
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
    and the test report (:class:`~baryir.tasks.callbacks.TestReport`, ``--report.*``).

    ``test`` defaults to ``--verbose false``: the task's report prints the one results table
    (restored and input PSNR/SSIM, share made worse), so Lightning's per-dataloader listing of
    the same numbers is left out unless asked for.
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        from baryir.tasks.callbacks import TestReport

        parser.link_arguments("data.tasks", "model.num_sources", compute_fn=count_sources)
        parser.add_lightning_class_args(TestReport, "report")

    def _prepare_subcommand_parser(
        self, klass: type, subcommand: str, **kwargs: Any
    ) -> LightningArgumentParser:
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        parser.epilog = ERRORS_EPILOG
        if subcommand == "test":
            parser.set_defaults(verbose=False)
        if subcommand == "fit":
            parser.add_argument(
                "--fresh",
                type=bool,
                default=False,
                help="Start over in a folder that already holds last.ckpt: the new run replaces "
                "it (without this, such a fit stops and says how to resume).",
            )
        return parser

    def _parse_ckpt_path(self) -> None:
        from baryir.tasks.preflight import check_checkpoint_argument

        subcommand = self.config.get("subcommand")
        if subcommand:
            check_checkpoint_argument(self.config[subcommand].get("ckpt_path"))
        super()._parse_ckpt_path()

    def before_instantiate_classes(self) -> None:
        from baryir.tasks.preflight import check_config

        check_config(self.subcommand, self.config[self.subcommand])

    def _run_subcommand(self, subcommand: str) -> None:
        """Check the run (:func:`~baryir.tasks.preflight.prepare_run`), then run it."""
        from baryir.tasks.preflight import prepare_run

        arguments = self.config_init[subcommand]
        fresh = bool(arguments.get("fresh", False))
        prepare_run(subcommand, self.trainer, self.model, self.datamodule, arguments, fresh)
        super()._run_subcommand(subcommand)


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
    from baryir.tasks.callbacks import PreemptionCheckpoint, RNGStateCallback

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
    parser = CommandParser(prog=prog, description=description, epilog=ERRORS_EPILOG)
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

    User errors (:func:`baryir.errors.is_user_error`: missing files, unreadable or unfit weights,
    bad configs, a full disk, out of memory) end in one line on stderr
    (:func:`baryir.errors.report_error`): exit status 2, or 1 for a failure while running.
    """
    from baryir.errors import is_user_error, report_error

    command: Callable[..., int] = importlib.import_module(COMMANDS[name]).run
    prog = f"baryir {name}"
    args = command_parser(command, prog).parse_args(list(argv))
    try:
        return command(**args.as_dict())
    except Exception as error:
        if not is_user_error(error):
            raise
        return report_error(prog, error)


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``baryir`` console script; ``args`` defaults to ``sys.argv[1:]``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in COMMANDS:
        return run_command(argv[0], argv[1:])
    from baryir.data import RestorationDataModule
    from baryir.errors import is_user_error, report_error
    from baryir.tasks import RestorationTask

    prog = f"baryir {argv[0]}" if argv and not argv[0].startswith("-") else "baryir"
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
    except Exception as error:
        if not is_user_error(error):
            raise
        return report_error(prog, error)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
