"""The ``baryir`` command: LightningCLI's fit/validate/test/predict plus restore/convert/export."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from baryir.commands import convert, export, restore

COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "restore": restore.main,
    "convert": convert.main,
    "export": export.main,
}

DESCRIPTION = (
    "baryir: all-in-one image restoration in a Wasserstein barycenter space.\n"
    "Training and evaluation: baryir {fit,validate,test,predict} --config CONFIG.yaml\n"
    "Other commands: baryir restore INPUT... --ckpt CKPT --output DIR | "
    "baryir convert RELEASED.pth OUT.safetensors | baryir export CKPT OUT.safetensors "
    "(each takes --help)"
)


class BaryIRCLI(LightningCLI):
    """LightningCLI with the number of degradation sources linked from the data to the model."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.tasks", "model.num_sources", compute_fn=count_sources)


def count_sources(tasks: Sequence[str]) -> int:
    """Number of distinct degradation sources (potentials) among the selected tasks."""
    from baryir.data.tasks import resolve_tasks

    return len({task.source for task in resolve_tasks(tasks)})


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``baryir`` console script; ``args`` defaults to ``sys.argv[1:]``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    from baryir.data import RestorationDataModule
    from baryir.tasks import RestorationTask

    BaryIRCLI(
        RestorationTask,
        RestorationDataModule,
        args=None if args is None else argv,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"description": DESCRIPTION},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
