"""``RestorationDataModule``: training mix, balanced batches, validation and test sets.

Data sources (``setup("fit")``):

- ``root=None``: the bundled default (scikit-image photos, every task synthesised on the fly,
  ``bundled_train_size`` items per task per epoch, repeat 1 unless ``mix`` says otherwise).
- ``root="data"``: the paper layout (``data/Train/...``, see ``datasets/layout.py``), with the
  paper's repeat factors unless ``mix`` is given.
- ``folders={"derain": "/x/Rain13k"}`` overrides one task's folder.

The mix: ``mix`` weights the tasks (or sources) one way, read as ``mix_by``: ``repeats`` (times
each image is seen per epoch; unnamed tasks keep their default) or ``shares`` (of the epoch;
every task needs one).

Ids: the selected tasks get compact ids in ``TASKS`` order: ``degradation`` = position among the
selected tasks, ``source`` = position of the task's source among the selected sources. For the
paper's 3- and 5-task selections these equal the release's ids (``TASKS``).
``degradation_names[d]`` and ``source_names[k]`` name them.

Bad input (each failure names the file or folder; see also ``datasets/files.py``):

==================================  ===========================================================
case                                outcome
==================================  ===========================================================
unknown task / test-set name        ValueError at construction/setup, lists the valid names
missing folder                      FileNotFoundError at setup naming the path
empty folder (no image files)       ValueError at setup naming the folder
input without a target              skipped; one WARNING with the count and first file names
target without an input             ignored (INFO count): normal for RESIDE OTS
pair of different sizes             skipped at setup (PIL header sizes); WARNING with count+names
unreadable header (not an image,    skipped at setup; WARNING with the count and file names
zero bytes)                         (no valid file/pair left: ValueError)
truncated data (header fine)        training: WARNING naming the file, item replaced by the next
                                    one; evaluation: ImageReadError naming the file
grayscale, RGBA, palette, 16-bit,   converted to RGB float32 [0, 1] by ``baryir.io.image``
CMYK                                (alpha dropped), no warning
image smaller than the patch        reflect-padded (or upscaled, ``small_images="upscale"``);
                                    INFO count at setup
batch_size < number of sources      balanced batches rotate: each holds batch_size distinct
                                    sources, every source drawn equally often (INFO at
                                    construction; ``data/samplers.py``)
==================================  ===========================================================
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader

from baryir.data.datasets.base import DegradationDataset
from baryir.data.datasets.bundled import bundled_dataset
from baryir.data.datasets.layout import layout_datasets
from baryir.data.datasets.synthetic import SyntheticDataset
from baryir.data.degradation_tasks import SOURCE_NAMES, DegradationTask, resolve_tasks
from baryir.data.eval_rows import DEFAULT_EVAL_SETS, DO_NO_HARM_SUITE, default_rows
from baryir.data.mixing import (
    MixedDataset,
    lengths_from_proportions,
    lengths_from_repeats,
    source_weights,
)
from baryir.data.progressive import PatchStage, check_stages, stage_at
from baryir.data.samplers import SourceBalancedBatchSampler
from baryir.data.suites import build_rows, load_suite, unique_labels
from baryir.degradations import build_degradation
from baryir.lightning_private import batches_processed, epoch_position

__all__ = [
    "DEFAULT_EVAL_SETS",
    "DEFAULT_TASKS",
    "DO_NO_HARM_SUITE",
    "RestorationDataModule",
]

log = logging.getLogger(__name__)

DEFAULT_TASKS: tuple[str, ...] = ("denoise_15", "denoise_25", "denoise_50", "derain", "dehaze")


def __getattr__(name: str) -> tuple[str, ...]:
    if name == "DO_NO_HARM":  # the degradation specs of the "do no harm" rows, from the suite
        return load_suite(DO_NO_HARM_SUITE).degradations
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RestorationDataModule(LightningDataModule):
    """Training mix of degradation sources plus per-set validation/test loaders.

    Args:
        root: paper-layout data root (holding ``Train/`` and ``test/``); None: bundled photos.
        tasks: task names or aliases (``TASKS``); None: the paper's 3 tasks
            (denoise_15, denoise_25, denoise_50, derain, dehaze).
        folders: per-task (or per-source) folder overrides: clean folder for noise tasks,
            paired folder for the others; ``"/x/Rain100H[0:70]"`` takes a slice of the files,
            ``"haze@/x/clean"`` synthesises the task on clean images (``datasets/subset.py``).
        mix: per-task (or per-source) weights of the training mix, read as ``mix_by``
            says; None: the paper's repeat factors (noise x5 per sigma, rain x360, haze x1,
            blur x35, low light x150), 1 for the bundled default.
        mix_by: ``"repeats"``: ``mix`` gives repeat factors (times each image is seen per
            epoch; tasks it does not name keep their default); ``"shares"``: target shares of
            an epoch of the same total size (every task needs one).
        patch_size: training crop side.
        patch_stages: progressive patch sizes (``data/progressive.py``): from each stage's
            step on, its patch and batch size replace ``patch_size`` and ``batch_size``; needs
            ``trainer.reload_dataloaders_every_n_epochs: 1``. None (default): one size.
        small_images: policy for images smaller than the patch.
        batch_size: training batch size (per rank).
        num_workers: DataLoader workers.
        balanced_batches: every source in every batch (``SourceBalancedBatchSampler``).
        val_sets: evaluation rows in the spec grammar (:mod:`baryir.specs`): test sets
            (``"CBSD68:25"``, ``"Rain100L"``, ``"./pairs"``) or suites (``"suite:do-no-harm"``,
            a suite ``.yaml``: all its rows, scored by the suite's protocol;
            :func:`~baryir.data.suites.build_rows`); None: one per task (bundled validation
            photos, or the standard set found under ``test_root``/``root``; missing ones skipped
            with a WARNING) plus the ``do_no_harm`` rows (:mod:`baryir.data.eval_rows`);
            ``[]``: none.
        val_max_images: keep the first N images of each validation set.
        val_crop: central crop of validation images (None: whole images).
        test_sets: like ``val_sets``, for ``test`` (whole images, no limit).
        test_root: where named evaluation sets are searched (default: ``root``).
        bundled_train_size: items per task per epoch of the bundled default.
        bundled_val_crop: central crop of the bundled validation photos (None: whole).
        do_no_harm: degradation specs added to the default validation and test sets, on the
            bundled validation photos or CBSD68 (None: those of the ``do-no-harm`` suite,
            :data:`DO_NO_HARM_SUITE`: clean, noise sigma 5 and JPEG q40; ``[]``: none); a spec
            that is already a task's row is not repeated.
        flat_contrast: probability that a synthesised training patch first gets a lower
            contrast and a brightness shift (``data/transforms.py``: flat clean content, so
            that low contrast alone does not read as haze); 0 (default) leaves patches as
            they are.
        seed: seed of the batch order and of the evaluation degradations.
        persistent_workers: keep workers alive between epochs (when ``num_workers > 0``).
        pin_memory: pin batches in page-locked memory (for GPU training).
    """

    def __init__(
        self,
        root: str | None = None,
        tasks: list[str] | None = None,
        folders: dict[str, str] | None = None,
        mix: dict[str, float] | None = None,
        mix_by: Literal["repeats", "shares"] = "repeats",
        patch_size: int = 128,
        patch_stages: list[PatchStage] | None = None,
        small_images: Literal["pad", "upscale"] = "pad",
        batch_size: int = 8,
        num_workers: int = 2,
        balanced_batches: bool = True,
        val_sets: list[str] | None = None,
        val_max_images: int | None = None,
        val_crop: int | None = None,
        test_sets: list[str] | None = None,
        test_root: str | None = None,
        bundled_train_size: int = 64,
        bundled_val_crop: int | None = 256,
        do_no_harm: list[str] | None = None,
        flat_contrast: float = 0.0,
        seed: int = 0,
        persistent_workers: bool = True,
        pin_memory: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.tasks: list[DegradationTask] = resolve_tasks(list(tasks or DEFAULT_TASKS))
        if mix_by not in ("repeats", "shares"):
            raise ValueError(f"data.mix_by must be 'repeats' or 'shares', got {mix_by!r}")
        for what, mapping in (("mix", mix), ("folders", folders)):
            self._check_keys(what, mapping or {})
        if mix is not None and mix_by == "shares":
            missing = [t.name for t in self.tasks if t.name not in mix and t.source_name not in mix]
            if missing:
                raise ValueError(
                    f"data.mix {mix} (data.mix_by shares) gives no share to the tasks {missing}: "
                    "give every selected task (or its source) a share, or choose the tasks with "
                    "data.tasks"
                )
        if patch_size < 8 or batch_size < 1 or num_workers < 0 or bundled_train_size < 1:
            raise ValueError(
                f"bad sizes: patch_size={patch_size} (>= 8), batch_size={batch_size} (>= 1), "
                f"num_workers={num_workers} (>= 0), bundled_train_size={bundled_train_size} (>= 1)"
            )
        canonical_sources = sorted({task.source for task in self.tasks})
        self._source_of_task: dict[str | None, int] = {
            task.name: canonical_sources.index(task.source) for task in self.tasks
        }
        self.source_names = [SOURCE_NAMES[k] for k in canonical_sources]
        self.degradation_names = [task.name for task in self.tasks]
        if balanced_batches and batch_size < len(self.source_names):
            log.info(
                "batch_size %d < %d sources: each batch holds %d distinct sources, rotating so "
                "that every source is drawn equally often",
                batch_size,
                len(self.source_names),
                batch_size,
            )
        self.root = root
        self.folders = dict(folders or {})
        self.mix = mix
        self.mix_by = mix_by
        self.patch_size = patch_size
        self.patch_stages = check_stages(patch_stages or [])
        self.small_images = small_images
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.balanced_batches = balanced_batches
        self.val_sets = val_sets
        self.val_max_images = val_max_images
        self.val_crop = val_crop
        self.test_sets = test_sets
        self.test_root = test_root
        self.bundled_train_size = bundled_train_size
        self.bundled_val_crop = bundled_val_crop
        if not 0.0 <= flat_contrast <= 1.0:
            raise ValueError(f"flat_contrast must be a probability in [0, 1], got {flat_contrast}")
        self.flat_contrast = flat_contrast
        self.do_no_harm_suite = load_suite(DO_NO_HARM_SUITE)
        self.do_no_harm = [
            spec
            for spec in (self.do_no_harm_suite.degradations if do_no_harm is None else do_no_harm)
            if spec not in {task.synthetic for task in self.tasks}
        ]
        for spec in self.do_no_harm:
            build_degradation(spec)
        self.seed = seed
        self.persistent_workers = persistent_workers
        self.pin_memory = pin_memory
        self.train_dataset: MixedDataset | None = None
        self.val_datasets: list[DegradationDataset] | None = None
        self.test_datasets: list[DegradationDataset] | None = None
        self._weights: Tensor | None = None
        self._resume_at: tuple[int, int] | None = None

    def _check_keys(self, what: str, mapping: dict) -> None:
        valid = {task.name for task in self.tasks} | {task.source_name for task in self.tasks}
        unknown = sorted(set(mapping) - valid)
        if unknown:
            raise ValueError(
                f"data.{what} names {unknown}, which are not among the selected tasks or their "
                f"sources ({', '.join(sorted(valid))}): change data.{what} with data.tasks, or "
                f"add --data.{what} null"
            )

    def _per_task(self, mapping: dict, task: DegradationTask, default: float) -> float:
        return mapping.get(task.name, mapping.get(task.source_name, default))

    # ------------------------------------------------------------------ setup
    def setup(self, stage: str | None = None) -> None:
        """Build the datasets of ``stage`` (fails here, before training, on bad config/data)."""
        if stage in (None, "fit") and self.train_dataset is None:
            self._setup_train()
            log.info("training data:\n%s", self.summary())
        if stage in (None, "fit", "validate") and self.val_datasets is None:
            self.val_datasets = self._eval_datasets(self.val_sets, validation=True)
        if stage in (None, "test") and self.test_datasets is None:
            self.test_datasets = self._eval_datasets(self.test_sets, validation=False)

    def _setup_train(self) -> None:
        # without a root, the tasks that no folder override names keep the bundled photos
        on_disk = [
            task
            for task in self.tasks
            if self.root is not None or {task.name, task.source_name} & set(self.folders)
        ]
        from_disk = iter(
            layout_datasets(self.root, on_disk, self.patch_size, self.small_images, self.folders)
            if on_disk
            else []
        )
        sources: list[DegradationDataset] = [
            next(from_disk)
            if task in on_disk
            else bundled_dataset(
                task,
                "train",
                self.bundled_train_size,
                self.patch_size,
                self.seed,
                self.small_images,
            )
            for task in self.tasks
        ]
        default_repeat = {
            task.name: float(task.repeat) if task in on_disk else 1.0 for task in self.tasks
        }
        for source in sources:
            self._assign_ids(source)
            if isinstance(source, SyntheticDataset):
                source.flat_contrast = self.flat_contrast
        counts = [len(source) for source in sources]
        if self.mix is not None and self.mix_by == "shares":
            shares = [self._per_task(self.mix, t, 0.0) for t in self.tasks]
            lengths = lengths_from_proportions(counts, shares)
        else:
            factors = [
                self._per_task(self.mix or {}, t, default_repeat[t.name]) for t in self.tasks
            ]
            lengths = lengths_from_repeats(counts, factors)
        self.train_dataset = MixedDataset(sources, lengths)
        self._weights = source_weights(
            lengths, [s.source_id for s in sources], len(self.source_names)
        )

    def _assign_ids(self, dataset: DegradationDataset) -> DegradationDataset:
        """Compact ids of the selected tasks (-1 for a task outside the selection)."""
        selected = dataset.task in self._source_of_task
        dataset.degradation_id = self.degradation_names.index(dataset.task) if selected else -1
        dataset.source_id = self._source_of_task[dataset.task] if selected else -1
        return dataset

    def _eval_datasets(self, specs: list[str] | None, validation: bool) -> list[DegradationDataset]:
        return [self._assign_ids(d) for d in self._build_eval_datasets(specs, validation)]

    def _build_eval_datasets(
        self, specs: list[str] | None, validation: bool
    ) -> list[DegradationDataset]:
        root = self.test_root or self.root
        max_images = self.val_max_images if validation else None
        crop = self.val_crop if validation else None
        if specs is not None:
            return build_rows(specs, root, self.seed, max_images, crop)
        return default_rows(
            self.tasks,
            self.do_no_harm,
            root,
            self.seed,
            max_images,
            crop,
            self.bundled_val_crop if validation else None,
            "validation" if validation else "test",
        )

    # ------------------------------------------------------------ properties
    @property
    def source_weights(self) -> Tensor:
        """(K,) lambda_k: normalised inverse training-sample counts (after ``setup("fit")``)."""
        if self._weights is None:
            raise RuntimeError("source_weights needs setup('fit') first")
        return self._weights

    @property
    def val_labels(self) -> list[str]:
        """Row label of each validation loader (after setup), made unique as the task names
        its rows (:func:`~baryir.data.suites.unique_labels`)."""
        return unique_labels([dataset.label for dataset in self.val_datasets or []])

    @property
    def test_labels(self) -> list[str]:
        """Row label of each test loader (after setup), made unique (as ``val_labels``)."""
        return unique_labels([dataset.label for dataset in self.test_datasets or []])

    def summary(self) -> str:
        """Table of sources, counts, repeats and lambda (also logged at INFO by setup)."""
        if self.train_dataset is None or self._weights is None:
            raise RuntimeError("summary needs setup('fit') first")
        mixed = self.train_dataset
        header = (
            f"{'source':<10}{'k':>3} {'lambda':>8}  {'task':<12}{'id':>3} {'images':>8}"
            f"{'items':>9}{'repeat':>9}{'epoch':>10}  data"
        )
        lines = [header, "-" * len(header)]
        for dataset, length in zip(mixed.datasets, mixed.lengths, strict=True):
            k = dataset.source_id
            where = _describe(dataset)
            lines.append(
                f"{self.source_names[k]:<10}{k:>3} {float(self._weights[k]):>8.4f}  "
                f"{dataset.task or '-':<12}{dataset.degradation_id:>3} {dataset.image_count:>8}"
                f"{len(dataset):>9}{length / len(dataset):>9.2f}{length:>10}  {where}"
            )
        if not self.balanced_batches:
            sampler = "shuffle"
        elif self.batch_size >= len(self.source_names):
            sampler = "balanced (every source in every batch)"
        else:
            sampler = f"rotating ({self.batch_size} distinct sources a batch)"
        lines.append(
            f"{len(mixed)} samples/epoch, {len(self.source_names)} sources, "
            f"patch {self.patch_size}, batch {self.batch_size}, {sampler}"
        )
        for stage in self.patch_stages:
            lines.append(
                f"from step {stage.step}: patch {stage.patch_size}, batch {stage.batch_size}"
            )
        if self.val_datasets is not None:
            sets = ", ".join(f"{d.label} ({len(d)})" for d in self.val_datasets) or "none"
            lines.append(f"validation: {sets}")
        return "\n".join(lines)

    # ------------------------------------------------------------ resuming
    def state_dict(self) -> dict[str, int]:
        """Training position saved in checkpoints: the epoch and the batches done in it."""
        trainer = self.trainer
        if trainer is None:
            return {}
        epoch, batches_done = epoch_position(trainer)
        return {"epoch": epoch, "batches_done": batches_done}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        """Resume the balanced sampler where the checkpoint was written (same batches next)."""
        if "epoch" in state_dict:
            self._resume_at = (int(state_dict["epoch"]), int(state_dict["batches_done"]))

    def _loader_generator(self) -> torch.Generator | None:
        """Without workers, a loader's own generator: starting an epoch's iterator then draws
        its (unused) worker seed from it, not from the global RNG, so a resumed run draws the
        same random numbers as an uninterrupted one. With workers, the global RNG seeds them."""
        if self.num_workers > 0:
            return None
        return torch.Generator().manual_seed(torch.initial_seed())

    # ----------------------------------------------------------- dataloaders
    def train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            self.setup("fit")
        assert self.train_dataset is not None
        batch_size = self._apply_patch_stage(self.train_dataset)
        workers = {
            "num_workers": self.num_workers,
            "persistent_workers": self.persistent_workers and self.num_workers > 0,
            "pin_memory": self.pin_memory,
            "generator": self._loader_generator(),
        }
        if not self.balanced_batches:
            return DataLoader(
                self.train_dataset,
                batch_size=batch_size,
                shuffle=True,
                drop_last=True,
                **workers,
            )
        trainer = self.trainer
        sampler = SourceBalancedBatchSampler(
            self.train_dataset.source_of_index(),
            batch_size,
            num_replicas=trainer.world_size if trainer is not None else 1,
            rank=trainer.global_rank if trainer is not None else 0,
            seed=self.seed,
        )
        if self._resume_at is not None:
            sampler.resume(*self._resume_at)
            self._resume_at = None
        return DataLoader(self.train_dataset, batch_sampler=sampler, **workers)

    def _apply_patch_stage(self, dataset: MixedDataset) -> int:
        """Set the training crops of the stage this epoch starts in; returns its batch size.

        The epoch's first batch is counted from the fit loop (a resumed run subtracts the
        batches already done in its epoch, so it repeats the stage the epoch started with).
        """
        if not self.patch_stages:
            return self.batch_size
        trainer = self.trainer
        if trainer is None:
            batches_done = 0
        else:
            if trainer.reload_dataloaders_every_n_epochs != 1:
                raise ValueError(
                    "data.patch_stages needs trainer.reload_dataloaders_every_n_epochs: 1 (the "
                    f"loader is rebuilt at epoch starts), got "
                    f"{trainer.reload_dataloaders_every_n_epochs}"
                )
            batches_done = batches_processed(trainer)
            if self._resume_at is not None:
                batches_done -= self._resume_at[1]
        patch_size, batch_size = stage_at(
            self.patch_stages, batches_done, self.patch_size, self.batch_size
        )
        for source in dataset.datasets:
            source.set_patch_size(patch_size)
        log.info("batches from %d: patch %d, batch %d", batches_done, patch_size, batch_size)
        return batch_size

    def _eval_loaders(self, datasets: list[DegradationDataset]) -> list[DataLoader]:
        return [
            DataLoader(
                dataset,
                batch_size=1,
                shuffle=False,
                num_workers=self.num_workers,
                pin_memory=self.pin_memory,
                generator=self._loader_generator(),
            )
            for dataset in datasets
        ]

    def val_dataloader(self) -> list[DataLoader]:
        if self.val_datasets is None:
            self.setup("validate")
        return self._eval_loaders(self.val_datasets or [])

    def test_dataloader(self) -> list[DataLoader]:
        if self.test_datasets is None:
            self.setup("test")
        return self._eval_loaders(self.test_datasets or [])


def _describe(dataset: DegradationDataset) -> str:
    pairs = getattr(dataset, "pairs", None)
    if pairs:
        return os.path.commonpath([str(pairs[0][0]), str(pairs[0][1])])
    first = getattr(dataset, "images", [None])[0]
    return str(first.parent) if isinstance(first, Path) else dataset.label
