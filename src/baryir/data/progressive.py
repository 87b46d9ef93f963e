"""Progressive patch sizes: larger training crops in smaller batches later in a run (Restormer).

A model trained only on small crops sees only small contexts, and whole test photos hold
regions larger than any crop (a face, a sail, a white wall). A later stage on larger crops, at
about the same pixels per batch, lets training see that context without costing more a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PatchStage", "check_stages", "stage_at"]


@dataclass(frozen=True)
class PatchStage:
    """From training batch ``step`` on, ``patch_size``-pixel crops in batches of ``batch_size``.

    ``step`` counts training batches. A stage starts with the first epoch that begins at or
    after ``step``: the data loader is rebuilt at epoch starts only.
    """

    step: int
    patch_size: int
    batch_size: int

    def __post_init__(self) -> None:
        if self.step < 1 or self.patch_size < 8 or self.batch_size < 1:
            raise ValueError(
                f"PatchStage needs step >= 1, patch_size >= 8 and batch_size >= 1, got "
                f"step={self.step}, patch_size={self.patch_size}, batch_size={self.batch_size}"
            )


def check_stages(stages: Sequence[PatchStage]) -> list[PatchStage]:
    """The stages as a list, checked to start at strictly increasing steps.

    Raises:
        ValueError: steps out of order or repeated.
    """
    stages = list(stages)
    steps = [stage.step for stage in stages]
    if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError(f"patch stages must start at strictly increasing steps, got {steps}")
    return stages


def stage_at(
    stages: Sequence[PatchStage], batches_done: int, patch_size: int, batch_size: int
) -> tuple[int, int]:
    """``(patch_size, batch_size)`` for an epoch that starts after ``batches_done`` batches.

    The last stage with ``step <= batches_done``; before the first stage, the base
    ``patch_size`` and ``batch_size``.

    Example:
        >>> stages = [PatchStage(500, 128, 2)]
        >>> stage_at(stages, 499, 48, 8), stage_at(stages, 504, 48, 8)
        ((48, 8), (128, 2))
    """
    current = (patch_size, batch_size)
    for stage in stages:
        if stage.step <= batches_done:
            current = (stage.patch_size, stage.batch_size)
    return current
