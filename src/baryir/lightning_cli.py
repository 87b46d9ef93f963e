"""The Trainer commands ``fit``, ``validate``, ``test``, ``predict``, and the one parser class.

:class:`BaryIRCLI` is Lightning's ``LightningCLI`` with the data's sources linked to the model,
the test report, the checks of :mod:`baryir.tasks.preflight` before any work starts and
:func:`resilience_defaults`; :func:`run_trainer` runs one of its commands in this process
(``baryir fit``, and the study's in-process runs). :class:`BaryIRArgumentParser` is the parser
of every ``baryir`` command, Lightning's and the others (:func:`baryir.cli.command_parser`): a
jsonargparse parser whose argument errors end on the one error path of :mod:`baryir.errors`.

This module is the library's top: it imports no command (:mod:`baryir.commands`,
:mod:`baryir.cli`), so the commands can use it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from baryir.errors import UsageError, report_error
from baryir.lightning_private import HelpFormatter

__all__ = [
    "ERRORS_EPILOG",
    "BaryIRArgumentParser",
    "BaryIRCLI",
    "count_sources",
    "resilience_defaults",
    "run_trainer",
]

ERRORS_EPILOG = (
    "Errors are one line on stderr: exit status 2 for a bad command line, config or input, 1 "
    "for a run that failed while working. Set BARYIR_TRACEBACK=1 to see the traceback."
)
"""The last lines of every command's ``--help``."""


class BaryIRArgumentParser(LightningArgumentParser):
    """The parser of every ``baryir`` command: jsonargparse (through Lightning's parser), with
    argument errors as one line (what is wrong and where, then ``see ... --help``), exit status
    2, printed by :func:`baryir.errors.report_error`.

    A Trainer command's parser (LightningCLI adds the method's arguments with
    :meth:`add_method_arguments`) ends its help on :data:`ERRORS_EPILOG`; ``test`` defaults to
    ``--verbose false`` and ``fit`` takes ``--fresh``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def add_method_arguments(self, class_type: type, method_name: str, **kwargs: Any) -> list[str]:
        added = super().add_method_arguments(class_type, method_name, **kwargs)
        from lightning.pytorch import Trainer

        if not (isinstance(class_type, type) and issubclass(class_type, Trainer)):
            return added
        self.epilog = ERRORS_EPILOG
        if method_name == "test":
            self.set_defaults(verbose=False)
        if method_name == "fit":
            self.add_argument(
                "--fresh",
                type=bool,
                default=False,
                help="Start over in a folder that already holds last.ckpt: the new run replaces "
                "it (without this, such a fit stops and says how to resume).",
            )
        return added  # --fresh is not an argument of Trainer.fit

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)
        prog = self.prog.replace(" [options]", "")
        text = nested_key_error(" ".join(message.split())) or "invalid arguments"
        if len(text) > 400:
            text = text[:397] + "..."
        raise SystemExit(report_error(prog, UsageError(f"{text} (see {prog} --help)")))


_UNION_ERROR = re.compile(
    r'Parser key "(?P<outer>[^"]+)": Does not validate against any of the Union subtypes .*?'
    r"Problem with given class_path '[^']*': Parser key \"(?P<inner>[^\"]+)\": (?P<why>.*?)"
    r"(?: - Expected a <class 'NoneType'>.*)?$"
)


def nested_key_error(text: str) -> str:
    """jsonargparse's error on a key inside a config group typed ``Config | None`` (a union, so
    its text lists every subtype) as the one key and its reason: ``Parser key "model.objective.
    wb_solver": Expected ...``; other errors as they are."""
    match = _UNION_ERROR.search(text)
    if match is None:
        return text
    key = f"{match['outer']}.{match['inner']}"
    return f'{text[: match.start()]}Parser key "{key}": {match["why"]}'


class BaryIRCLI(LightningCLI):
    """LightningCLI with the number of degradation sources linked from the data to the model,
    and the test report (:class:`~baryir.tasks.callbacks.TestReport`, ``--report.*``).

    ``test`` defaults to ``--verbose false``: the report of the LightningModule
    (``RestorationTask``) prints the one results table (restored and input PSNR/SSIM, share made
    worse), so Lightning's per-dataloader listing of the same numbers is left out unless asked
    for.
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        from baryir.tasks.callbacks import TestReport

        parser.link_arguments("data.tasks", "model.num_sources", compute_fn=count_sources)
        parser.add_lightning_class_args(TestReport, "report")

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        """Lightning's, then the check of an explicit ``--ckpt_path``
        (:func:`~baryir.tasks.preflight.check_checkpoint_argument`) before LightningCLI reads
        the hyper-parameters in it."""
        from baryir.tasks.preflight import check_checkpoint_argument

        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if subcommand:
            check_checkpoint_argument(self.config[subcommand].get("ckpt_path"))

    def before_instantiate_classes(self) -> None:
        from baryir.tasks.preflight import check_config

        check_config(self.subcommand, self.config[self.subcommand])

    def instantiate_trainer(self, **kwargs: Any) -> Any:
        """Lightning's, with :class:`~baryir.tasks.callbacks.IntervalProgressBar` as the bar
        when the trainer shows one and no callback of the config or the defaults is a bar."""
        from lightning.pytorch.callbacks import ProgressBar

        from baryir.tasks.callbacks import IntervalProgressBar

        config = self.config_init.get(str(self.subcommand), self.config_init)
        trainer = {**(config.get("trainer") or {}), **kwargs}
        given = _as_list(trainer.get("callbacks"))
        every = [*given, *config.values(), *_as_list(self.trainer_defaults.get("callbacks"))]
        shown = trainer.get("enable_progress_bar") is not False
        if shown and not any(isinstance(callback, ProgressBar) for callback in every):
            kwargs["callbacks"] = [*given, IntervalProgressBar()]
        return super().instantiate_trainer(**kwargs)

    def _prepare(self) -> None:
        """Check the run (:func:`~baryir.tasks.preflight.prepare_run`) before it starts."""
        from baryir.tasks.preflight import prepare_run

        arguments = self.config_init[self.subcommand]
        fresh = bool(arguments.get("fresh", False))
        prepare_run(self.subcommand, self.trainer, self.model, self.datamodule, arguments, fresh)

    def before_fit(self) -> None:
        self._prepare()

    def before_validate(self) -> None:
        self._prepare()

    def before_test(self) -> None:
        self._prepare()

    def before_predict(self) -> None:
        self._prepare()


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def count_sources(tasks: Sequence[str] | None) -> int:
    """Number of distinct degradation sources (potentials) among the selected degradation tasks
    (``data.tasks``)."""
    from baryir.data.datamodule import DEFAULT_TASKS
    from baryir.data.degradation_tasks import resolve_tasks

    return len({degradation.source for degradation in resolve_tasks(tasks or DEFAULT_TASKS)})


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


def run_trainer(
    args: Sequence[str] | None,
    trainer_defaults: dict[str, Any] | None = None,
    description: str | None = None,
) -> None:
    """Run ``baryir {fit,validate,test,predict} ...`` in this process.

    Args:
        args: the command line after ``baryir`` (None: ``sys.argv[1:]``).
        trainer_defaults: the Trainer's defaults (None: :func:`resilience_defaults`).
        description: the ``baryir --help`` text.

    Raises whatever the run raises: the caller puts it on the one error path
    (:func:`baryir.errors.run_guarded`).
    """
    from baryir.data import RestorationDataModule
    from baryir.tasks import RestorationTask

    with warnings.catch_warnings():
        # main(args) is how tests and notebooks call us; Lightning warns when sys.argv is set.
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
        # Lightning's own use of a torch pytree API that torch deprecates: nothing to act on
        warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)`")
        BaryIRCLI(
            RestorationTask,
            RestorationDataModule,
            args=None if args is None else list(args),
            parser_class=BaryIRArgumentParser,
            save_config_kwargs={"overwrite": True},
            parser_kwargs={"prog": "baryir", "description": description or "baryir"},
            trainer_defaults=resilience_defaults()
            if trainer_defaults is None
            else trainer_defaults,
        )
