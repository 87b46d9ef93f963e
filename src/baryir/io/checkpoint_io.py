"""A Lightning ``CheckpointIO`` that never leaves a partial checkpoint and never runs pickled code.

What it adds to Lightning's ``TorchCheckpointIO``: checkpoints are written through the one atomic
writer (:func:`baryir.io.atomic.atomic_path`: a temporary file in the checkpoint's own folder,
fsync, rename; Lightning stages a local file in the system's temporary folder and moves it
without fsync), and ``load_checkpoint`` always uses ``torch.load(weights_only=True)`` whatever
the trainer asks, refusing a checkpoint that needs code to unpickle with one line
(:class:`~baryir.io.checkpoint.UnsafeCheckpointError`).

The ``baryir`` command installs it by default (``trainer.plugins``, see :mod:`baryir.cli`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lightning.fabric.utilities.types import _PATH
from lightning.pytorch.plugins.io import TorchCheckpointIO

from baryir.io.checkpoint import atomic_save, load_checkpoint

__all__ = ["AtomicCheckpointIO"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """Local checkpoints written atomically and read with ``weights_only=True``.

    Example:
        >>> from lightning.pytorch import Trainer
        >>> trainer = Trainer(plugins=[AtomicCheckpointIO()])  # doctest: +SKIP
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        atomic_save(checkpoint, path)

    def load_checkpoint(
        self,
        path: _PATH,
        map_location: Callable | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Load on the CPU with ``weights_only=True`` whatever ``weights_only`` says.

        Raises:
            FileNotFoundError, UnsafeCheckpointError, CheckpointError
            (``baryir.io.checkpoint``).
        """
        return load_checkpoint(path)
