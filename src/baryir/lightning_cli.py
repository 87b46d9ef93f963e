"""LightningCLI for baryir: one-line argument errors and the data's sources linked to the model."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI


class BaryIRArgumentParser(LightningArgumentParser):
    """Argument parser whose errors are one line (what is wrong and where), not a usage dump."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:
            super().error(message, ex)
        prog = self.prog.replace(" [options]", "")
        text = " ".join(message.split()) or "invalid arguments"
        if len(text) > 400:
            text = text[:397] + "..."
        sys.stderr.write(f"{prog}: error: {text} (see {prog} --help)\n")
        raise SystemExit(2)


class BaryIRCLI(LightningCLI):
    """LightningCLI with the number of degradation sources linked from the data to the model."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.tasks", "model.num_sources", compute_fn=count_sources)


def count_sources(tasks: Sequence[str] | None) -> int:
    """Number of distinct degradation sources (potentials) among the selected tasks."""
    from baryir.data.datamodule import DEFAULT_TASKS
    from baryir.data.tasks import resolve_tasks

    return len({task.source for task in resolve_tasks(tasks or DEFAULT_TASKS)})


def resilience_defaults() -> dict[str, list]:
    """Atomic weights-only checkpoint IO, RNG states in checkpoints, save-and-stop on SIGTERM."""
    from baryir.io.checkpoint_io import AtomicCheckpointIO
    from baryir.tasks.resilience import PreemptionCheckpoint, RNGStateCallback

    return {
        "plugins": [AtomicCheckpointIO()],
        "callbacks": [RNGStateCallback(), PreemptionCheckpoint()],
    }
