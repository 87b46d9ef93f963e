"""The Lightning callbacks of the library, one a file, and the offline-safe W&B logger.

Each callback reads the task through :class:`~baryir.tasks.RestorationTask`'s public surface
(``forward``, ``wb_solver``, ``protocol``, ``eval_results`` and the step outputs), never its
private attributes.

- :class:`RunInfo` (``run_info.py``): what identifies a run, logged once at the start of ``fit``.
- :class:`ValidationImageLogger` (``validation_images.py``): validation triplets every N steps.
- :class:`OfflineFallbackWandbLogger` (``wandb_logger.py``): W&B offline without credentials.
- :class:`RNGStateCallback` (``rng_state.py``) and :class:`PreemptionCheckpoint`
  (``preemption.py``): an exact resume and a clean stop; the ``baryir`` command adds both.
- :class:`BarycenterDivergence` (``barycenter_divergence.py``): ``val/b_divergence``, whether
  ``b`` aligns across the validation's degradations.
- :class:`FolderLock` (``folder_lock.py``): one run per checkpoint folder (``hold_folder``); the
  ``baryir fit`` preflight takes it.
- :class:`LostRankGuard` (``lost_rank.py``): a DDP run that loses a rank ends in one line
  (``limit_collective_wait``: the collective timeout); the preflight adds it.
- :class:`TestReport` (``test_report.py``): the tables and picture at the end of ``baryir test``.
- :class:`IntervalProgressBar` (``progress_bar.py``): the TQDM bar without a host read a step;
  the ``baryir`` command adds it unless the config turns the bar off or names its own.

Every callback works with whichever loggers the trainer has: W&B (``WandbLogger``),
TensorBoard (``TensorBoardLogger``) and CSV (``CSVLogger``, which gets no images). Select them
from a config, e.g. ``--config configs/logger/wandb.yaml`` after the main config.
"""

from baryir.tasks.callbacks.barycenter_divergence import BarycenterDivergence
from baryir.tasks.callbacks.folder_lock import FolderLock, hold_folder
from baryir.tasks.callbacks.lost_rank import LostRankGuard, limit_collective_wait
from baryir.tasks.callbacks.preemption import PreemptionCheckpoint, last_checkpoint_path
from baryir.tasks.callbacks.progress_bar import IntervalProgressBar
from baryir.tasks.callbacks.rng_state import RNGStateCallback, collect_rng_states, set_rng_states
from baryir.tasks.callbacks.run_info import RunInfo, git_revision
from baryir.tasks.callbacks.test_report import TestReport
from baryir.tasks.callbacks.validation_images import ValidationImageLogger
from baryir.tasks.callbacks.wandb_logger import OfflineFallbackWandbLogger, wandb_mode

__all__ = [
    "BarycenterDivergence",
    "FolderLock",
    "IntervalProgressBar",
    "LostRankGuard",
    "OfflineFallbackWandbLogger",
    "PreemptionCheckpoint",
    "RNGStateCallback",
    "RunInfo",
    "TestReport",
    "ValidationImageLogger",
    "collect_rng_states",
    "git_revision",
    "hold_folder",
    "last_checkpoint_path",
    "limit_collective_wait",
    "set_rng_states",
    "wandb_mode",
]
