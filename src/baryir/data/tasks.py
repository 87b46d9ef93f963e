"""The restoration tasks of the paper: fine degradation ids, sources (potential indices), aliases.

``TASKS`` follows the paper's release: noise sigma 15/25/50 are three fine ids of one source.

Example:
    >>> TASKS["derain"].fine_id, TASKS["derain"].source
    (3, 1)
    >>> [t.name for t in resolve_tasks(["denoise", "rain"])]
    ['denoise_15', 'denoise_25', 'denoise_50', 'derain']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "SOURCE_NAMES",
    "TASKS",
    "TASK_ALIASES",
    "TaskInfo",
    "resolve_task",
    "resolve_tasks",
]

SOURCE_NAMES: tuple[str, ...] = ("noise", "rain", "haze", "blur", "lowlight")


@dataclass(frozen=True)
class TaskInfo:
    """One restoration task.

    Attributes:
        name: task name, e.g. ``"denoise_25"``.
        fine_id: fine degradation id (contrastive label) of the paper's release.
        source: degradation source index (potential index) of the paper's release.
        source_name: name of the source, ``SOURCE_NAMES[source]``.
        synthetic: degradation spec used when the task is synthesised from clean images
            (``baryir.degradations.build_degradation``), e.g. ``"noise:25"``.
        paired: True when the paper trains it on real pairs (rain, haze, blur, low light).
        repeat: the paper's repeat factor for balancing (noise x5 per sigma, rain x360, ...).
    """

    name: str
    fine_id: int
    source: int
    source_name: str
    synthetic: str
    paired: bool
    repeat: int


TASKS: dict[str, TaskInfo] = {
    "denoise_15": TaskInfo("denoise_15", 0, 0, "noise", "noise:15", False, 5),
    "denoise_25": TaskInfo("denoise_25", 1, 0, "noise", "noise:25", False, 5),
    "denoise_50": TaskInfo("denoise_50", 2, 0, "noise", "noise:50", False, 5),
    "derain": TaskInfo("derain", 3, 1, "rain", "rain", True, 360),
    "dehaze": TaskInfo("dehaze", 4, 2, "haze", "haze", True, 1),
    "deblur": TaskInfo("deblur", 5, 3, "blur", "motion_blur", True, 35),
    "lowlight": TaskInfo("lowlight", 6, 4, "lowlight", "lowlight", True, 150),
}

TASK_ALIASES: dict[str, tuple[str, ...]] = {
    "denoise": ("denoise_15", "denoise_25", "denoise_50"),
    "noise": ("denoise_15", "denoise_25", "denoise_50"),
    "denoising": ("denoise_15", "denoise_25", "denoise_50"),
    "denoise15": ("denoise_15",),
    "denoise25": ("denoise_25",),
    "denoise50": ("denoise_50",),
    "noise_15": ("denoise_15",),
    "noise_25": ("denoise_25",),
    "noise_50": ("denoise_50",),
    "rain": ("derain",),
    "deraining": ("derain",),
    "haze": ("dehaze",),
    "dehazing": ("dehaze",),
    "blur": ("deblur",),
    "deblurring": ("deblur",),
    "motion_blur": ("deblur",),
    "low_light": ("lowlight",),
    "low-light": ("lowlight",),
    "lol": ("lowlight",),
    "enhance": ("lowlight",),
    "3task": ("denoise_15", "denoise_25", "denoise_50", "derain", "dehaze"),
    "5task": tuple(TASKS),
}


def resolve_task(name: str) -> TaskInfo:
    """Return the ``TaskInfo`` of a canonical task name (case-insensitive)."""
    key = name.strip().lower()
    if key in TASKS:
        return TASKS[key]
    alias = TASK_ALIASES.get(key, ())
    if len(alias) == 1:
        return TASKS[alias[0]]
    raise ValueError(
        f"unknown task {name!r}; valid tasks: {', '.join(TASKS)} "
        f"(aliases: {', '.join(TASK_ALIASES)})"
    )


def resolve_tasks(names: Sequence[str]) -> list[TaskInfo]:
    """Expand aliases, drop duplicates and return the tasks in ``TASKS`` order."""
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ValueError(f"no task selected; valid tasks: {', '.join(TASKS)}")
    selected: set[str] = set()
    for name in names:
        key = name.strip().lower()
        if key in TASK_ALIASES:
            selected.update(TASK_ALIASES[key])
        else:
            selected.add(resolve_task(key).name)
    return [task for task in TASKS.values() if task.name in selected]
