"""The ``baryir`` command: LightningCLI's fit/validate/test/predict plus restore/convert/export."""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Sequence

# Subcommands that run without a Trainer: name -> module with ``main(argv) -> int``, imported
# only when used so that ``baryir restore --help`` starts fast.
COMMANDS: dict[str, str] = {
    "restore": "baryir.commands.restore",
    "convert": "baryir.commands.convert",
    "export": "baryir.commands.export",
    "suite": "baryir.commands.suite",
    "compare": "baryir.commands.compare",
    "study": "baryir.commands.study",
}

DESCRIPTION = (
    "baryir: all-in-one image restoration in a Wasserstein barycenter space.\n"
    "Training and evaluation: baryir {fit,validate,test,predict} --config CONFIG.yaml\n"
    "Other commands: baryir restore INPUT... --ckpt CKPT --output DIR | "
    "baryir convert RELEASED.pth OUT.safetensors | baryir export CKPT OUT.safetensors | "
    "baryir suite --config configs/suites/ood.yaml --ckpt CKPT | "
    "baryir compare --ckpt CKPT --sets CBSD68:25 Rain100H --output DIR (each takes --help)"
)


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``baryir`` console script; ``args`` defaults to ``sys.argv[1:]``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in COMMANDS:
        command: Callable[[Sequence[str]], int] = importlib.import_module(COMMANDS[argv[0]]).main
        return command(argv[1:])
    from baryir.data import RestorationDataModule
    from baryir.io.checkpoint import CheckpointError
    from baryir.io.image import ImageReadError
    from baryir.lightning_cli import BaryIRArgumentParser, BaryIRCLI, resilience_defaults
    from baryir.tasks import NonFiniteLossError, RestorationTask

    try:
        with warnings.catch_warnings():
            # main(args) is how tests and notebooks call us; Lightning warns when sys.argv is set.
            warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
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
