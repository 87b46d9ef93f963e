"""A study file (``configs/study/*.yaml``): arms, seeds, budget, training data, evaluation rows.

The keys and their types are checked by jsonargparse against :class:`StudyConfig` (an unknown
key is an error naming it); ``fit``, the ``baryir fit`` config shared by every run, is checked by
``baryir fit`` itself when the first run starts. The cross-field rules are in
:meth:`StudyConfig.__post_init__`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from baryir.io.yaml_file import parse_dataclass, read_yaml_mapping

__all__ = [
    "ARMS",
    "BudgetCurve",
    "StudyConfig",
    "StudyEvaluation",
    "arm_solver",
    "load_study_config",
]

ARMS: dict[str, dict[str, Any]] = {
    "none": {"objective": {"wb_solver": "none"}},
    "sinkhorn": {"objective": {"wb_solver": "sinkhorn"}},
    "potentials": {"objective": {"wb_solver": "potentials"}},
    "restormer-tiny": {"model": "restormer-tiny", "objective": {"wb_solver": "none"}},
    "baryir-promptir-tiny": {
        "model": "baryir-promptir-tiny",
        "objective": {"wb_solver": "sinkhorn"},
    },
    **{
        f"sinkhorn-share-{percent}": {
            "objective": {"wb_solver": "sinkhorn", "sinkhorn_normalize": True},
            "grad_shares": {"alignment_share": percent / 100},
        }
        for percent in (1, 10, 30)
    },
}
"""Model-section overrides of each arm (everything else is the study's shared fit config, into
which they are merged key by key): the WB solver ``none``, ``sinkhorn``, ``potentials`` (at the
fit config's weights), the plain ``restormer-tiny``, the PromptIR-backbone
``baryir-promptir-tiny`` with the Sinkhorn solver, and the alignment doses
``sinkhorn-share-{1,10,30}``: the Sinkhorn alignment held at 1 %, 10 % or 30 % of the network's
gradient (``grad_shares.alignment_share``) on L2-normalised points (``sinkhorn_normalize``),
so that the divergence is a function of the directions of ``b`` alone and cannot be lowered by
shrinking ``b``."""


def arm_solver(arm: str) -> str:
    """The WB solver of ``arm`` (``objective.wb_solver`` of its :data:`ARMS` entry)."""
    return ARMS.get(arm, {}).get("objective", {}).get("wb_solver", "none")


@dataclass(frozen=True)
class StudyEvaluation:
    """Test rows and how they are scored.

    Args:
        in_distribution: rows of degradations seen in training. Every group's rows are
            rows of the spec grammar (:mod:`baryir.specs`, :func:`baryir.data.suites.build_rows`:
            ``"suite:NAME"`` or a suite file, all its rows; ``"CBSD68:suite:do-no-harm"``, its
            degradations on CBSD68).
        out_of_distribution: specs of unseen levels, types and mixtures.
        do_no_harm: rows a restorer should leave (nearly) unchanged: clean (input = target)
            and mild degradations, e.g. ``CBSD68:suite:do-no-harm`` (the ``do-no-harm`` suite's).
        unseen_kinds: specs of other unseen kinds, scored as a group of their own: the
            albumentations effects and compound degradations (``CBSD68:fog:0.3``,
            ``CBSD68:haze:0.06+lowlight:0.4``).
        seed: seed of the synthetic degradations (with the spec and file stem).
        max_images: first N images of each row (natural name order after any subset).
        crop: central crop side (before the degradation; None: whole images).
        device: where the runs are scored (``auto``: CUDA when available).
    """

    in_distribution: tuple[str, ...]
    out_of_distribution: tuple[str, ...]
    do_no_harm: tuple[str, ...] = ()
    unseen_kinds: tuple[str, ...] = ()
    seed: int = 0
    max_images: int | None = 12
    crop: int | None = 256
    device: Literal["auto", "cpu", "cuda"] = "auto"


@dataclass(frozen=True)
class BudgetCurve:
    """Checkpoints along the reference arm's first run, to see whether the budget sufficed.

    Args:
        every: save a checkpoint every this many training steps (each is scored on the
            in-distribution and do-no-harm rows; the last point is the run's final checkpoint).
            At most ``steps / 4``, or the report cannot say what the last quarter added.
        plateau_db: the report says whether the last quarter of the budget added less than this
            mean in-distribution PSNR (dB).
        min_gain: row spec -> the least PSNR gain over its input (dB) the reference arm must
            reach, e.g. ``{"CBSD68:50": 9}``: the report checks it at the full budget (mean over
            the seeds, worst seed shown) and at each step of the curve.
        min_psnr: row -> the least PSNR (dB), for rows whose input is the target
            (``CBSD68:clean``), checked the same way.
    """

    every: int
    plateau_db: float = 0.3
    min_gain: dict[str, float] | None = None
    min_psnr: dict[str, float] | None = None

    def targets(self) -> dict[str, tuple[str, float]]:
        """row spec -> ``("gain" | "psnr", least value)``, gains first, in the file's order."""
        out = {row: ("gain", float(v)) for row, v in (self.min_gain or {}).items()}
        out.update({row: ("psnr", float(v)) for row, v in (self.min_psnr or {}).items()})
        return out


@dataclass(frozen=True)
class StudyConfig:
    """A parsed study file (see ``configs/study/generalization-cpu.yaml``).

    Args:
        name: study name (default: the file stem); names the report files.
        seeds: one run per seed and arm.
        arms: names from :data:`ARMS`.
        steps: training steps of every run.
        train_folders: training data per degradation task (``data.tasks``), relative to
            ``data_root``.
        fit: the ``baryir fit`` config shared by every run.
        evaluation: the test rows.
        output: folder of the results (:mod:`baryir.study.results`) and the report.
        work_dir: folder of the runs (``<arm>-seed<seed>/``).
        reference: the arm every other arm is compared with.
        data_root: data root (None: ``$BARYIR_DATA``).
        readme_template: the report's README template (None:
            ``studies/report/README.template.md``).
        bootstrap: bootstrap draws of each interval.
        level: coverage of the intervals.
        practical_db: smallest mean difference (dB) that counts as support for the claim.
        mechanism_blur: Sinkhorn blur of ``b_divergence``/``r_divergence``, relative to the
            clouds' scale (:func:`baryir.evaluation.embedding.cloud_divergence`).
        budget_curve: checkpoints along the reference arm's first seed (None: none).
        side_by_side: train the arms of each seed at the same time, one ``baryir fit`` process
            each (for one GPU, which small models leave mostly idle); False: one after another,
            in this process.
    """

    name: str
    seeds: tuple[int, ...]
    arms: tuple[str, ...]
    steps: int
    train_folders: dict[str, str]
    fit: dict[str, Any]
    evaluation: StudyEvaluation
    output: str
    work_dir: str
    reference: str = "none"
    data_root: str | None = None
    readme_template: str | None = None
    bootstrap: int = 10000
    level: float = 0.95
    practical_db: float = 0.05
    mechanism_blur: float = 0.05
    budget_curve: BudgetCurve | None = None
    side_by_side: bool = False

    def __post_init__(self) -> None:
        where = f"study {self.name!r}"
        unknown = [arm for arm in self.arms if arm not in ARMS]
        if unknown:
            raise ValueError(f"{where}: unknown arms {unknown}; valid: {', '.join(ARMS)}")
        if self.reference not in self.arms:
            raise ValueError(f"{where}: reference arm {self.reference!r} is not among {self.arms}")
        if len(set(self.arms)) != len(self.arms) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"{where}: arms and seeds must not repeat")
        if not self.seeds or self.steps < 1:
            raise ValueError(f"{where}: needs at least one seed and steps >= 1")
        if not 0 < self.level < 1 or self.bootstrap < 100:
            raise ValueError(f"{where}: level must be in (0, 1) and bootstrap >= 100")
        evaluation = self.evaluation
        if any(
            value is not None and value < 1 for value in (evaluation.max_images, evaluation.crop)
        ):
            raise ValueError(f"{where}: evaluation.max_images and crop must be >= 1 (or null)")
        from baryir.data.suites import expand_specs

        rows = expand_specs(
            evaluation.in_distribution
            + evaluation.out_of_distribution
            + evaluation.unseen_kinds
            + evaluation.do_no_harm
        )
        if not rows or len(set(rows)) != len(rows):
            raise ValueError(f"{where}: evaluation rows must be given and not repeat")
        if self.mechanism_blur <= 0:
            raise ValueError(f"{where}: mechanism_blur must be > 0")
        curve = self.budget_curve
        if curve is not None and (curve.every < 1 or curve.plateau_db < 0):
            raise ValueError(
                f"{where}: budget_curve needs every >= 1 and plateau_db >= 0, got "
                f"{curve.every} and {curve.plateau_db}"
            )
        if curve is not None:
            scored = set(expand_specs(evaluation.in_distribution + evaluation.do_no_harm))
            both = set(curve.min_gain or {}) & set(curve.min_psnr or {})
            named = [*(curve.min_gain or {}), *(curve.min_psnr or {})]
            unknown = [row for row in named if row not in scored]
            if unknown or both:
                raise ValueError(
                    f"{where}: budget_curve targets must name in-distribution or do-no-harm rows, "
                    f"each once; got {sorted(unknown or both)}"
                )
        if not isinstance(self.fit, dict):
            raise ValueError(f"{where}: fit must be a mapping")
        for key in ("trainer", "model", "data"):
            if not isinstance(self.fit.get(key, {}), dict):
                raise ValueError(f"{where}: fit.{key} must be a mapping")

    def with_overrides(self, **changes: Any) -> StudyConfig:
        """A copy with the given fields replaced (``None`` values are ignored), checked again."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_study_config(path: str | Path) -> StudyConfig:
    """Read and check a study YAML file; errors are one line naming the file."""
    raw = read_yaml_mapping(path, "study config")
    fit = raw.pop("fit", None)  # checked by baryir fit, not here (its class_paths stay as given)
    if fit is None:
        raise ValueError(f"{path}: 'fit' (the baryir fit config of every run) is missing")
    return StudyConfig(**parse_dataclass(StudyConfig, raw, str(path), skip={"fit"}), fit=fit)
