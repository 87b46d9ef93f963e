"""The restoration tasks of the paper: fine degradation ids, sources (potential indices), aliases.

``TASKS`` follows the paper's release: noise sigma 15/25/50 are three fine ids of one source.
``clean`` (input = target, not in the paper) is an optional source of its own: it teaches a
model to leave undegraded photos alone, and as a source the WB and contrast terms see it like
any other (its barycenter embedding should match the others', its residual is the "no
degradation" class).

CDD-11 (the compound benchmark of OneRestore: low light, haze, rain and snow, alone and
combined) adds eleven tasks ``cdd_<kind>`` (``cdd_low``, ``cdd_haze_rain``, ...,
``cdd_low_haze_snow``; alias ``cdd11``), one per folder of the benchmark (``CDD11_KINDS``), each
its own source: fine ids 8..18, sources 6..16, after the paper's and ``clean``. Their
``synthetic`` spec is the stand-in this library draws on clean photos: the parts in physical
order, haze (the scene's air), then rain or snow (near the lens), then low light (the exposure
and its sensor noise), e.g. ``cdd_low_haze_snow`` -> ``"haze+snow+lowlight"``.

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
    "CDD11_KINDS",
    "SOURCE_NAMES",
    "TASKS",
    "TASK_ALIASES",
    "DegradationTask",
    "resolve_task",
    "resolve_tasks",
]

# CDD-11 folder name -> the synthetic stand-in's degradation spec
_CDD11_SPECS: dict[str, str] = {
    "low": "lowlight",
    "haze": "haze",
    "rain": "rain",
    "snow": "snow",
    "low_haze": "haze+lowlight",
    "low_rain": "rain+lowlight",
    "low_snow": "snow+lowlight",
    "haze_rain": "haze+rain",
    "haze_snow": "haze+snow",
    "low_haze_rain": "haze+rain+lowlight",
    "low_haze_snow": "haze+snow+lowlight",
}
CDD11_KINDS: tuple[str, ...] = tuple(_CDD11_SPECS)

SOURCE_NAMES: tuple[str, ...] = (
    "noise",
    "rain",
    "haze",
    "blur",
    "lowlight",
    "clean",
    *(f"cdd_{kind}" for kind in CDD11_KINDS),
)


@dataclass(frozen=True)
class DegradationTask:
    """One degradation task of the training mix (``data.tasks``), not the LightningModule
    (:class:`~baryir.tasks.RestorationTask`).

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


TASKS: dict[str, DegradationTask] = {
    "denoise_15": DegradationTask("denoise_15", 0, 0, "noise", "noise:15", False, 5),
    "denoise_25": DegradationTask("denoise_25", 1, 0, "noise", "noise:25", False, 5),
    "denoise_50": DegradationTask("denoise_50", 2, 0, "noise", "noise:50", False, 5),
    "derain": DegradationTask("derain", 3, 1, "rain", "rain", True, 360),
    "dehaze": DegradationTask("dehaze", 4, 2, "haze", "haze", True, 1),
    "deblur": DegradationTask("deblur", 5, 3, "blur", "motion_blur", True, 35),
    "lowlight": DegradationTask("lowlight", 6, 4, "lowlight", "lowlight", True, 150),
    "clean": DegradationTask("clean", 7, 5, "clean", "clean", False, 1),
    **{
        f"cdd_{kind}": DegradationTask(f"cdd_{kind}", 8 + i, 6 + i, f"cdd_{kind}", spec, True, 1)
        for i, (kind, spec) in enumerate(_CDD11_SPECS.items())
    },
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
    "5task": ("denoise_15", "denoise_25", "denoise_50", "derain", "dehaze", "deblur", "lowlight"),
    "identity": ("clean",),
    "none": ("clean",),
    "cdd11": tuple(f"cdd_{kind}" for kind in CDD11_KINDS),
    "cdd-11": tuple(f"cdd_{kind}" for kind in CDD11_KINDS),
}


def resolve_task(name: str) -> DegradationTask:
    """Return the ``DegradationTask`` of a canonical task name (case-insensitive)."""
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


def resolve_tasks(names: Sequence[str]) -> list[DegradationTask]:
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
