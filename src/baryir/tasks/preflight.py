"""Checks of a ``baryir fit|validate|test|predict`` run before it does any work.

:func:`check_checkpoint_argument` and :func:`check_config` run on the parsed config, before the
model is built or data is read: an explicit ``--ckpt_path`` (readable, a Lightning checkpoint of
``baryir fit``), the model name, the data roots and the run length against the learning-rate
warm-up.
:func:`prepare_run` runs on the built trainer, model and data, just before the subcommand: it
resolves ``--ckpt_path last`` to the newest checkpoint that loads (saying which files it skipped
and why, and refusing to start from scratch when none does), refuses a ``fit`` into a folder that
already holds ``last.ckpt`` unless told to resume or to start over (``--fresh true``), and sets up
the data of the stage so that a missing folder or an empty test selection fails now.

Every failure is a :class:`~baryir.errors.ConfigError`: one line, exit status 2.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from baryir.errors import ConfigError
from baryir.io.checkpoint import load_checkpoint
from baryir.io.checkpoint_io import checkpoint_candidates, newest_checkpoint
from baryir.lightning_private import write_over_last
from baryir.tasks.callbacks import hold_folder, last_checkpoint_path, limit_collective_wait

__all__ = ["check_checkpoint", "check_checkpoint_argument", "check_config", "prepare_run"]

log = logging.getLogger(__name__)

_SPECIAL_PATHS = ("last", "best", "hpc", "registry")


def _get(namespace: Any, dotted: str, default: Any = None) -> Any:
    for key in dotted.split("."):
        namespace = getattr(namespace, key, None) if namespace is not None else None
    return default if namespace is None else namespace


def _newest_good(folder: Path, but: Path) -> str:
    good, _ = newest_checkpoint(folder)
    if good is None or good.resolve() == but.resolve():
        return f"no checkpoint in {folder} loads"
    return f"the newest one that loads is {good}"


def check_checkpoint(path: Path) -> dict[str, Any]:
    """Load ``path`` and check it is a Lightning checkpoint of ``RestorationTask``; returns it.
    (Its network needs no check: LightningCLI builds the one its hyper-parameters name.)

    Raises:
        ConfigError: missing, unreadable or damaged (naming the newest good checkpoint of its
            folder), or not a Lightning checkpoint of ``baryir fit``.
    """
    if not path.is_file():
        raise ConfigError(f"checkpoint not found: {path}")
    try:
        checkpoint = load_checkpoint(path)
    except (OSError, ValueError) as error:
        reason = " ".join(str(error).split())
        raise ConfigError(f"{reason}; {_newest_good(path.parent, path)}") from None
    hparams = checkpoint.get("hyper_parameters")
    if not isinstance(checkpoint.get("state_dict"), dict) or not isinstance(hparams, dict):
        raise ConfigError(
            f"{path} is not a Lightning checkpoint of baryir fit (no state_dict and "
            "hyper_parameters); for weights files use baryir restore/export --ckpt"
        )
    return checkpoint


def check_checkpoint_argument(ckpt_path: Any) -> None:
    """Check an explicit ``--ckpt_path`` (not ``last``/``best``...) before LightningCLI reads
    the hyper-parameters in it (see :func:`check_checkpoint`)."""
    if ckpt_path is not None and str(ckpt_path) not in _SPECIAL_PATHS:
        check_checkpoint(Path(ckpt_path))


def check_config(subcommand: str, config: Any) -> None:
    """Check the parsed config of ``subcommand``: the model name, the data roots, the run
    length against the warm-up (see the module)."""
    from baryir.models import list_models

    name = _get(config, "model.model")
    if isinstance(name, str) and name not in list_models():  # else a class path
        raise ConfigError(f"model.model: unknown model {name!r}; valid names: {list_models()}")
    for key in ("data.root", "data.test_root"):
        root = _get(config, key)
        if root is not None and not Path(root).is_dir():
            raise ConfigError(f"{key}: data folder not found: {root}")
    max_steps = _get(config, "trainer.max_steps", -1)
    warmup = _get(config, "model.warmup_steps", 0)
    cosine = _get(config, "model.lr_schedule") == "cosine"
    if subcommand == "fit" and cosine and max_steps not in (None, -1) and max_steps <= warmup:
        raise ConfigError(
            f"trainer.max_steps={max_steps} is not longer than model.warmup_steps={warmup} "
            f"(lr_schedule cosine): raise --trainer.max_steps or lower --model.warmup_steps"
        )


def _checkpoint_folder(trainer: Trainer) -> Path:
    return last_checkpoint_path(trainer).parent


def _replace_last(trainer: Trainer) -> None:
    """Let the checkpoint callbacks write over an existing ``last.ckpt`` (no ``-v1`` copy)."""
    for callback in trainer.checkpoint_callbacks:
        if isinstance(callback, ModelCheckpoint):
            write_over_last(callback)


def _resolve_last(subcommand: str, trainer: Trainer) -> Path:
    folder = _checkpoint_folder(trainer)
    found, skipped = newest_checkpoint(folder)
    for path, reason in skipped:
        log.warning("--ckpt_path last: skipped %s: %s", path, reason)
    if found is None:
        what = f"none of the {len(skipped)} checkpoints in" if skipped else "no checkpoint in"
        todo = (
            "drop --ckpt_path to start a new run"
            if subcommand == "fit"
            else "pass --ckpt_path PATH"
        )
        raise ConfigError(f"--ckpt_path last: {what} {folder} loads; {todo}")
    return found


def prepare_run(
    subcommand: str,
    trainer: Trainer,
    model: LightningModule,
    datamodule: LightningDataModule | None,
    arguments: dict[str, Any],
    fresh: bool = False,
) -> None:
    """Resolve the checkpoint and check the folder and the data before ``subcommand`` runs.

    Args:
        subcommand: ``fit``, ``validate``, ``test`` or ``predict``.
        trainer, model, datamodule: as built by the command line.
        arguments: the subcommand's arguments; ``ckpt_path`` is replaced by the resolved file.
        fresh: ``fit`` only: start over in a folder that holds ``last.ckpt``, replacing it.
    """
    if subcommand == "fit" and trainer.global_rank == 0:
        hold_folder(trainer, _checkpoint_folder(trainer))  # one run per folder, for its life
    limit_collective_wait(trainer)  # DDP: a lost rank ends the run in one line
    ckpt_path = arguments.get("ckpt_path")
    if ckpt_path == "last":
        resolved = _resolve_last(subcommand, trainer)
        step = load_checkpoint(resolved).get("global_step", "?")
        log.warning("--ckpt_path last: resuming from %s (step %s)", resolved, step)
        arguments["ckpt_path"] = str(resolved)
    if subcommand == "fit" and ckpt_path is not None:
        _replace_last(trainer)  # the resumed run's last.ckpt, not a last-v1.ckpt beside it
    elif subcommand == "fit":
        folder = _checkpoint_folder(trainer)
        existing = [p for p in checkpoint_candidates(folder) if p.name.startswith("last")]
        if existing and not fresh:
            raise ConfigError(
                f"{existing[0]} exists from an earlier run in this folder: resume it with "
                "--ckpt_path last, start over with --fresh true (the new run replaces it), or "
                "train into another folder (--trainer.default_root_dir and the checkpoint "
                "callback's dirpath)"
            )
        if existing:
            _replace_last(trainer)
            log.warning("--fresh: starting over; %s is replaced at the first save", existing[0])
    if datamodule is not None and subcommand in ("fit", "validate", "test"):
        datamodule.setup(subcommand)
        found = getattr(datamodule, "test_datasets", None)
        if subcommand == "test" and found is not None and not found:
            root = getattr(datamodule, "test_root", None) or getattr(datamodule, "root", None)
            raise ConfigError(
                f"no test set found under {root}: put the standard sets there "
                "(docs/train-your-data.md) or name them with --data.test_sets"
            )
