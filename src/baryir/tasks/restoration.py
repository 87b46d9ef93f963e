"""The Lightning task that trains and evaluates a restoration network with the BaryIR objective."""

from __future__ import annotations

import inspect
import logging
import math
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from baryir.evaluation.embedding import cloud_divergence
from baryir.evaluation.runner import EvaluationLoop
from baryir.losses import BaryIRObjective, ObjectiveConfig, WBSolver
from baryir.losses.objective import sum_terms
from baryir.metrics import EvalProtocol
from baryir.models import DualPotentials, create_model
from baryir.tasks.balance import ShareBalancer, gradient_shares
from baryir.tasks.guard import NonFiniteGuard, gradient_norms, skips_on_device, step_unless

log = logging.getLogger(__name__)

Kernels = Literal["auto", "fused", "foreach", "default"]


def with_kernels(optimizer: torch.optim.Optimizer, kernels: Kernels) -> torch.optim.Optimizer:
    """``optimizer`` rebuilt (same class, groups and settings, no state yet) with its fused or
    foreach implementation; see ``RestorationTask``'s ``optimizer_kernels``."""
    if kernels not in ("auto", "fused", "foreach", "default"):
        raise ValueError(
            f"optimizer_kernels must be 'auto', 'fused', 'foreach' or 'default', got {kernels!r}"
        )
    defaults = optimizer.defaults
    chosen = kernels == "default" or defaults.get("fused") or defaults.get("foreach") is not None
    if chosen and kernels in ("auto", "default"):
        return optimizer
    wanted = ["fused", "foreach"] if kernels == "auto" else [kernels]
    groups = [
        {k: v for k, v in group.items() if k not in ("fused", "foreach")}
        for group in optimizer.param_groups
    ]
    accepted = inspect.signature(type(optimizer)).parameters
    settings = {k: v for k, v in defaults.items() if k in accepted}
    for kind in (k for k in wanted if k in accepted):
        try:
            options = {**settings, kind: True}
            options.update({k: None for k in ("fused", "foreach") if k in accepted and k != kind})
            return type(optimizer)(groups, **options)
        except RuntimeError:  # no fused kernel for these parameters (device or dtype)
            if kernels != "auto":
                raise
    if kernels != "auto":
        raise ValueError(f"optimizer_kernels={kernels!r}: {type(optimizer).__name__} has none")
    return optimizer


def update_average(
    average: AveragedModel, model: nn.Module, decay: float, skip: Tensor | None = None
) -> None:
    """``average.update_parameters(model)`` for the exponential moving average of
    ``get_ema_multi_avg_fn(decay)`` (``use_buffers=True``): the first update copies, the later
    ones move by ``1 - decay``; the same values, with the first-update test made on the device
    instead of read on the host. ``skip`` (a bool tensor): when True, nothing changes."""
    averaged = [*average.module.parameters(), *average.module.buffers()]
    current = [*model.parameters(), *model.buffers()]
    with torch.no_grad():
        weight = torch.where(average.n_averaged == 0, 1.0, 1.0 - decay).to(averaged[0].dtype)
        if skip is not None:
            weight = torch.where(skip, 0.0, weight)
        torch._foreach_lerp_(averaged, current, [weight] * len(averaged))
        average.n_averaged += 1 if skip is None else (~skip).long()


class RestorationTask(LightningModule):
    """Train any ``baryir.models`` network with reconstruction + Wasserstein-barycenter losses.

    The network is created from the registry (``model`` + ``model_args``), so checkpoints hold
    primitive hyper-parameters only and load with ``weights_only=True``. Optimisation is manual:
    one network update per batch and, with ``wb_solver="potentials"``, one update of the dual
    potentials (their own optimiser). ``trainer.max_steps`` counts network updates.

    Args:
        model: registry name of the network (``baryir.models.list_models()``).
        model_args: constructor overrides for that preset.
        wb_solver: ``sinkhorn`` (GeomLoss Sinkhorn divergences between sources' barycenter clouds),
            ``potentials`` (the paper's dual potentials) or ``none`` (ablation).
        num_sources: number of degradation sources K (linked from the data by the CLI).
        objective: the objective's weights and settings, one group (``model.objective.*`` in
            YAML; :class:`~baryir.losses.ObjectiveConfig`, defaults the paper's).
        potentials_pooling: ``adaptive`` (any patch size) or ``released`` (released shapes).
        potentials_patch_size: training patch size the potentials' flatten is sized for.
        potentials_recompute: recompute ``b`` with the updated network for the potentials step
            (the release; one extra forward) instead of reusing the detached ``b`` (default).
        gather_global_batch: under DDP, compute the WB and subspace terms on the all-gathered
            global batch (with gradients), so 2 ranks x B equals 1 rank x 2B.
        identity_init: zero the network's output projection at construction, so the untrained
            network returns its input exactly (fresh training only: weights loaded later, from a
            checkpoint or ``--ckpt_path``, replace it). Part of the small-budget recipe.
        lr_schedule: ``step`` (the paper: ``lr_scheduler``, default StepLR x0.1 every 30
            epochs, stepped every epoch) or ``cosine`` (linear warm-up over ``warmup_steps``,
            then cosine decay to ``min_lr_ratio`` x lr at the last update (``trainer.max_steps``
            or ``max_epochs`` x batches), stepped after every network update; both optimisers;
            it replaces ``lr_scheduler`` and ``potentials_lr_scheduler``).
        ema_decay: keep an exponential moving average of the network's weights (decay per
            network update; 0: none). The average (``ema.module``) is what validation, test,
            ``forward``, export and ``restore`` use; checkpoints hold both.
        warmup_steps: linear warm-up of the ``cosine`` schedule: lr x (k + 1) / warmup_steps at
            update k < warmup_steps.
        min_lr_ratio: final learning rate of the ``cosine`` schedule, as a fraction of lr.
        grad_share_every: every this many network updates (and at the first), measure each
            loss term's share of the network's gradient (:func:`~baryir.tasks.balance.
            gradient_shares`: one extra backward per term on that step), logged as
            ``train/grad_share/<term>`` (the latest measurement at every logged step); 0: never.
        alignment_share: keep the alignment term's (``sinkhorn`` or ``potential``) share of the
            network's gradient near this value (:class:`~baryir.tasks.balance.ShareBalancer`,
            re-solved at every measurement; logged as ``train/alignment_multiplier``). None
            (default): the plain weights of ``objective``.
        alignment_share_smoothing: weight of each new solution in the balancer's log-space
            moving average (1: use each measurement's solution as it is).
        optimizer: network optimiser (default: RMSprop, lr 1e-4, the paper's).
        optimizer_kernels: how both optimisers run their update: ``auto`` (default) rebuilds
            them with ``fused=True`` where the class has a fused kernel for the parameters'
            device (Adam, AdamW, SGD, Adagrad; CPU and CUDA), else ``foreach=True`` where it
            has that (RMSprop), unless the optimiser's own arguments set ``fused`` or
            ``foreach``; ``fused``/``foreach`` ask for that one (an error where the class has
            none); ``default``: as built (torch's choice: a loop over the tensors on the CPU).
            The same update to float rounding, in a few operations instead of several per
            parameter tensor.
        lr_scheduler: network scheduler of the ``step`` schedule, stepped every epoch (default:
            StepLR x0.1 every 30 epochs).
        potentials_optimizer: potentials optimiser (default: RMSprop, lr 1e-4).
        potentials_lr_scheduler: potentials scheduler (default: same step decay as the network).
        gradient_clip_val: clip the network's gradient norm to this value (None: no clipping).
        max_nonfinite_steps: consecutive non-finite steps tolerated before the run stops.
        nonfinite_check: how the guard reads its flag (:mod:`~baryir.tasks.guard`).
            ``immediate``: one host read a step; a skipped step is named at once and does not
            advance ``global_step`` or the schedule. ``deferred``: no host read; the fused
            optimisers skip the update on the device flag (as under a ``GradScaler``), the
            weight average holds still, and the counts are read, warned about and checked
            against ``max_nonfinite_steps`` every ``trainer.log_every_n_steps``, at epoch ends
            and at checkpoints; a skipped step still counts in ``global_step`` and the
            schedule. ``auto`` (default): deferred where every optimiser can skip on the
            device (fused Adam, AdamW, Adagrad), else immediate.
        metric_channel: ``rgb`` (paper) or ``y`` for PSNR/SSIM.
        metric_crop_border: pixels cropped from each border before the metrics.
        metric_size_policy: ``crop`` test images to a multiple of 8 (paper) or ``pad``.
        eval_tile: test in tiles of this side (pixels; :func:`~baryir.inference.restore`);
            None: whole images, tiled only when they run out of memory.
        eval_tile_overlap: overlap of neighbouring test tiles (pixels).
        compile: compile the network with ``torch.compile`` (in ``configure_model``).
        compile_backend: ``torch.compile`` backend (``inductor``; ``aot_eager`` traces without
            generating kernels, to check a model compiles).
        compile_mode: ``torch.compile`` mode (None, ``reduce-overhead``, ``max-autotune``, ...).

    Attributes:
        network: the network that evaluates (the weight average with ``ema_decay``).
        protocol: how validation and test images are scored (``metric_*``).
        wb_solver: the WB solver in use (``none`` for a network without a barycenter).
        evaluation: the one evaluation loop (:class:`~baryir.evaluation.runner.EvaluationLoop`)
            that validation and test go through.
        eval_labels, eval_results: the rows of the current or last evaluation.

    These and ``forward`` and ``test_step``'s output are what callbacks read
    (:mod:`baryir.tasks.callbacks`).
    """

    def __init__(
        self,
        model: str = "baryir-tiny",
        model_args: dict[str, Any] | None = None,
        wb_solver: WBSolver = "sinkhorn",
        num_sources: int = 3,
        objective: ObjectiveConfig = ObjectiveConfig(),
        potentials_pooling: Literal["adaptive", "released"] = "adaptive",
        potentials_patch_size: int = 128,
        potentials_recompute: bool = False,
        gather_global_batch: bool = True,
        identity_init: bool = False,
        ema_decay: float = 0.0,
        lr_schedule: Literal["step", "cosine"] = "step",
        warmup_steps: int = 0,
        min_lr_ratio: float = 0.0,
        grad_share_every: int = 100,
        alignment_share: float | None = None,
        alignment_share_smoothing: float = 0.5,
        optimizer: OptimizerCallable | None = None,
        optimizer_kernels: Literal["auto", "fused", "foreach", "default"] = "auto",
        lr_scheduler: LRSchedulerCallable | None = None,
        potentials_optimizer: OptimizerCallable | None = None,
        potentials_lr_scheduler: LRSchedulerCallable | None = None,
        gradient_clip_val: float | None = None,
        max_nonfinite_steps: int = 10,
        nonfinite_check: Literal["auto", "immediate", "deferred"] = "auto",
        metric_channel: Literal["rgb", "y"] = "rgb",
        metric_crop_border: int = 0,
        metric_size_policy: Literal["crop", "pad"] = "crop",
        eval_tile: int | None = None,
        eval_tile_overlap: int = 32,
        compile: bool = False,
        compile_backend: str = "inductor",
        compile_mode: str | None = None,
    ) -> None:
        super().__init__()
        # Evaluation settings stay out of the checkpoint's hyper-parameters: LightningCLI applies
        # a checkpoint's hyper-parameters over the command line, and these must stay overridable.
        self.save_hyperparameters(
            ignore=[
                "objective",
                "optimizer",
                "lr_scheduler",
                "potentials_optimizer",
                "potentials_lr_scheduler",
                "metric_channel",
                "metric_crop_border",
                "metric_size_policy",
                "eval_tile",
                "eval_tile_overlap",
            ]
        )
        self.automatic_optimization = False
        if warmup_steps < 0 or not 0.0 <= min_lr_ratio <= 1.0 or not 0.0 <= ema_decay < 1.0:
            raise ValueError(
                f"need warmup_steps >= 0, min_lr_ratio in [0, 1] and ema_decay in [0, 1), got "
                f"{warmup_steps}, {min_lr_ratio} and {ema_decay}"
            )
        if warmup_steps and lr_schedule != "cosine":
            raise ValueError(f"warmup_steps={warmup_steps} needs lr_schedule='cosine'")
        self.model = create_model(model, **(model_args or {}))
        if identity_init:
            self.model.init_identity()
        self.ema: AveragedModel | None = None
        if ema_decay:
            self.ema = AveragedModel(
                self.model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True
            )
            self.ema.requires_grad_(False)
        self.wb_solver = wb_solver if self.model.has_barycenter else "none"
        if wb_solver != "none" and not self.model.has_barycenter:
            log.warning("model %r has no barycenter map: wb_solver=%r is ignored", model, wb_solver)
        self.objective = BaryIRObjective(self.wb_solver, ObjectiveConfig.parse(objective))
        # checkpoints hold primitives only (they load with weights_only=True)
        self.hparams["objective"] = self.objective.config.to_dict()
        self.potentials: DualPotentials | None = None
        if self.wb_solver == "potentials":
            self.potentials = DualPotentials(
                num_potentials=num_sources,
                channels=self.model.latent_channels,
                patch_size=potentials_patch_size,
                pooling=potentials_pooling,
            )
        self.register_buffer("source_weights", torch.full((num_sources,), 1.0 / num_sources))
        if grad_share_every < 0:
            raise ValueError(f"grad_share_every must be >= 0, got {grad_share_every}")
        self.balancer: ShareBalancer | None = None
        if alignment_share is not None:
            term = self.objective.alignment_term
            if term is None or not grad_share_every:
                raise ValueError(
                    f"alignment_share={alignment_share} needs an alignment term (wb_solver "
                    f"'sinkhorn' or 'potentials', got {self.wb_solver!r}) and grad_share_every "
                    f"> 0 (got {grad_share_every})"
                )
            self.balancer = ShareBalancer(term, alignment_share, alignment_share_smoothing)
        self.grad_shares: dict[str, Tensor] = {}
        self.eval_barycenters: dict[str, list[Tensor]] = {}
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
        self.potentials_optimizer_factory = potentials_optimizer
        self.potentials_scheduler_factory = potentials_lr_scheduler
        self.guard = NonFiniteGuard(max_nonfinite_steps)
        self.deferred_check = False
        self.protocol = EvalProtocol(
            channel=metric_channel, crop_border=metric_crop_border, size_policy=metric_size_policy
        )
        self.evaluation = EvaluationLoop(self.protocol, eval_tile, eval_tile_overlap)
        self._eval_results: dict[str, dict[str, float]] = {}

    @property
    def network(self) -> nn.Module:
        """The network that evaluates: the weight average when ``ema_decay`` is set."""
        return self.ema.module if self.ema is not None else self.model

    def forward(self, x: Tensor) -> Tensor:
        """Restore ``x`` (B, 3, H, W) in [0, 1] with :attr:`network`; same shape out."""
        return self.network(x).restored

    def configure_model(self) -> None:
        if self.hparams.compile:
            # In place: the state dict keeps its names (no ``_orig_mod.`` prefix).
            self.model.compile(backend=self.hparams.compile_backend, mode=self.hparams.compile_mode)

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if stage != "fit" or datamodule is None:
            return
        weights = getattr(datamodule, "source_weights", None)
        if weights is not None:
            weights = torch.as_tensor(weights, dtype=torch.float32)
            if weights.numel() != self.hparams.num_sources:
                names = getattr(datamodule, "source_names", [])
                raise ValueError(
                    f"model.num_sources={self.hparams.num_sources} but the data has "
                    f"{weights.numel()} degradation sources {names}; set --model.num_sources "
                    f"{weights.numel()}"
                )
            self.source_weights.copy_(weights)

    def configure_optimizers(self) -> Any:
        network = list(self.model.parameters())
        optimizer = (
            self.optimizer_factory(network)
            if self.optimizer_factory
            else torch.optim.RMSprop(network, lr=1e-4)
        )
        optimizers = [optimizer]
        if self.potentials is not None:
            params = list(self.potentials.parameters())
            optimizers.append(
                self.potentials_optimizer_factory(params)
                if self.potentials_optimizer_factory
                else torch.optim.RMSprop(params, lr=1e-4)
            )
        optimizers = [with_kernels(opt, self.hparams.optimizer_kernels) for opt in optimizers]
        self.deferred_check = self._resolve_check(optimizers)
        if self.hparams.lr_schedule == "cosine":
            return optimizers, [self._cosine_schedule(opt) for opt in optimizers]
        factories = [self.scheduler_factory, self.potentials_scheduler_factory]
        schedulers = [
            factory(opt) if factory else torch.optim.lr_scheduler.StepLR(opt, 30, gamma=0.1)
            for opt, factory in zip(optimizers, factories, strict=False)
        ]
        return optimizers, schedulers

    def _resolve_check(self, optimizers: list[torch.optim.Optimizer]) -> bool:
        """Whether the guard defers its read (``nonfinite_check``; see the class docstring)."""
        check = self.hparams.get("nonfinite_check", "auto")
        if check not in ("auto", "immediate", "deferred"):
            raise ValueError(
                f"nonfinite_check must be 'auto', 'immediate' or 'deferred', got {check!r}"
            )
        able = all(skips_on_device(opt) for opt in optimizers)
        if check == "deferred" and not able:
            names = ", ".join(type(opt).__name__ for opt in optimizers if not skips_on_device(opt))
            raise ValueError(
                f"nonfinite_check='deferred' needs optimisers that skip a step on the device "
                f"(fused Adam, AdamW or Adagrad); {names} cannot: use 'immediate' or 'auto'"
            )
        return able and check != "immediate"

    def _cosine_schedule(self, optimizer: torch.optim.Optimizer) -> Any:
        """Linear warm-up then cosine decay over the run's network updates (``max_steps``, or
        ``max_epochs`` x batches: Lightning's ``estimated_stepping_batches``)."""
        total = self.trainer.estimated_stepping_batches
        warmup = self.hparams.warmup_steps
        if not math.isfinite(total) or total <= warmup:
            raise ValueError(
                f"lr_schedule='cosine' needs a finite run longer than warmup_steps ({warmup}): "
                f"set trainer.max_steps or trainer.max_epochs (got {total} updates)"
            )
        total = int(total)
        base = optimizer.param_groups[0]["lr"]
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total - warmup, eta_min=base * self.hparams.min_lr_ratio
        )
        if not warmup:
            return cosine
        # lr x (k + 1) / warmup at update k < warmup, then the cosine from lr
        ramp = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0 / warmup, total_iters=warmup - 1)
        return torch.optim.lr_scheduler.SequentialLR(optimizer, [ramp, cosine], [warmup])

    def _global(self, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        """All-gather the embedding tensors (with gradients) across DDP ranks."""
        if not self.hparams.gather_global_batch or self.trainer.world_size == 1:
            return tensors
        gathered = self.all_gather(tensors, sync_grads=True)
        return {k: v.flatten(0, 1) for k, v in gathered.items()}

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        if batch_idx == 0 and self.current_epoch > 0 and self.hparams.lr_schedule == "step":
            self._step_schedulers()
        optimizers = self.optimizers()
        optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
        net_opt = optimizers[0]
        out = self.model(batch["input"])
        embeddings = {"degradation": batch["degradation"], "source": batch["source"]}
        if out.barycenter is not None:
            embeddings |= {"z": out.source_latent, "b": out.barycenter, "r": out.residual}
        embeddings = self._global(embeddings)
        weighted, terms = self.objective.weighted_terms(
            restored=out.restored,
            target=batch["target"],
            source_latent=embeddings.get("z"),
            barycenter=embeddings.get("b"),
            residual=embeddings.get("r"),
            degradation=embeddings["degradation"],
            source=embeddings["source"],
            source_weights=self.source_weights,
            potentials=self.potentials,
        )
        if self.balancer is not None and self.balancer.term in weighted:
            term = self.balancer.term
            weighted[term] = weighted[term] * self.balancer.multiplier.to(weighted[term].dtype)
        total = sum_terms(weighted)
        step = self.global_step
        every = self.hparams.grad_share_every
        if every and step % every == 0:
            if not self.guard.check("loss", step, total):
                return total.detach()
            self._measure_shares(weighted)
        net_opt.zero_grad()
        self.manual_backward(total)
        norms = gradient_norms(self.model)
        bad = ~(torch.isfinite(total) & torch.isfinite(norms).all())
        deferred = self.deferred_check
        # immediate: the step's one host read, loss and gradients together (a non-finite loss
        # gives non-finite gradients; which one failed is read only then)
        if not deferred and bool(bad):
            if self.guard.check("loss", step, total):
                self.guard.check("gradient", step, norms)
            net_opt.zero_grad()
            return total.detach()
        if self.hparams.gradient_clip_val:
            self.clip_gradients(net_opt, gradient_clip_val=self.hparams.gradient_clip_val)
        if deferred:
            step_unless(net_opt.optimizer, bad, net_opt.step)
        else:
            net_opt.step()
        if self.ema is not None:
            update_average(self.ema, self.model, self.hparams.ema_decay, bad if deferred else None)
        potentials_ok = True
        if self.potentials is not None:
            potential_terms, bad = self._potentials_step(optimizers[1], batch, embeddings, bad)
            potentials_ok = bool(potential_terms)
            terms |= potential_terms
        if deferred:
            self.guard.record(bad, step)
            if (step + 1) % (self.trainer.log_every_n_steps or 50) == 0:
                self.guard.flush(step + 1)
        elif potentials_ok:
            self.guard.passed()
        if self.hparams.lr_schedule == "cosine":
            self._step_schedulers()
        batch_size = batch["input"].shape[0]
        self.log("train/loss", total.detach(), batch_size=batch_size)
        for name, value in terms.items():
            self.log(f"train/{name}", value, batch_size=batch_size)
        for name, value in self.grad_shares.items():
            self.log(f"train/grad_share/{name}", value, batch_size=batch_size)
        if self.balancer is not None:
            multiplier = self.balancer.multiplier.float()
            self.log("train/alignment_multiplier", multiplier, batch_size=batch_size)
        self.log("train/nonfinite_steps", self.guard.pending_total(), batch_size=batch_size)
        return total.detach()

    def _measure_shares(self, weighted: dict[str, Tensor]) -> None:
        """Each term's share of the network's gradient (kept for logging), and the balancer's
        new multiplier."""
        shares, grads = gradient_shares(weighted, list(self.model.parameters()))
        self.grad_shares = {name: share.detach() for name, share in shares.items()}
        if self.balancer is not None:
            self.balancer.update(grads)
            if self.trainer.world_size > 1:  # one multiplier for every rank (each measured its own)
                mean = self.trainer.strategy.reduce(self.balancer.multiplier, reduce_op="mean")
                self.balancer.multiplier.copy_(mean)

    def _potentials_step(
        self, optimizer: Any, batch: dict[str, Any], embeddings: dict[str, Tensor], bad: Tensor
    ) -> tuple[dict[str, Tensor], Tensor]:
        """One update of the dual potentials on the detached barycenter embeddings, skipped
        with the network's (``bad``: the step's flag so far): its terms (none when the immediate
        guard skipped it) and the step's flag."""
        assert self.potentials is not None
        if self.hparams.potentials_recompute:
            with torch.no_grad():
                barycenter = self._global({"b": self.model(batch["input"]).barycenter})["b"]
        else:
            barycenter = embeddings["b"].detach()
        loss, terms = self.objective.potentials_loss(
            self.potentials, barycenter, embeddings["source"], self.source_weights
        )
        params = [p for p in self.potentials.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params)
        norms = torch.stack(torch._foreach_norm(list(grads)))
        potentials_bad = ~(torch.isfinite(loss) & torch.isfinite(norms).all())
        if not self.deferred_check and bool(potentials_bad):  # one host read
            if self.guard.check("potentials loss", self.global_step, loss):
                self.guard.check("potentials gradient", self.global_step, norms)
            return {}, bad | potentials_bad
        bad = bad | potentials_bad
        if self.trainer.world_size > 1:
            grads = [self.trainer.strategy.reduce(g, reduce_op="mean") for g in grads]
        for param, grad in zip(params, grads, strict=False):
            param.grad = grad
        if self.deferred_check:
            step_unless(optimizer.optimizer, bad, optimizer.optimizer.step)
        else:
            optimizer.optimizer.step()
        optimizer.optimizer.zero_grad()
        return terms, bad

    def _step_schedulers(self) -> None:
        """Step every scheduler. The ``step`` schedule steps at the first batch of the next epoch
        rather than at the end of the epoch: a checkpoint written at the last batch of an epoch
        then resumes with the same learning rates (Lightning does not rerun
        ``on_train_epoch_end`` for it). The ``cosine`` schedule steps after each network
        update (like ``trainer.global_step``: a step the guard skips does not count)."""
        schedulers = self.lr_schedulers()
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            if scheduler is not None:
                scheduler.step()

    def on_train_epoch_end(self) -> None:
        self.guard.flush(self.global_step)

    def on_train_end(self) -> None:
        self.guard.flush(self.global_step)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.guard.flush(self.global_step)
        checkpoint["nonfinite_guard"] = self.guard.state_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.guard.load_state_dict(checkpoint.get("nonfinite_guard", {}))

    @property
    def eval_labels(self) -> list[str]:
        """The row label of each validation or test loader of the current (or last) evaluation,
        made unique (:func:`~baryir.data.suites.unique_labels`)."""
        return self.evaluation.labels

    @property
    def eval_results(self) -> dict[str, dict[str, float]]:
        """The last validation's or test's rows: ``{label: SetScorer.compute()}`` in loader
        order (what :class:`~baryir.tasks.callbacks.TestReport` prints)."""
        return self._eval_results

    def _start_evaluation(self, loaders: Any) -> None:
        loaders = loaders if isinstance(loaders, list | tuple) else [loaders]
        self.evaluation.start([loader.dataset for loader in loaders], self.device)
        self.eval_barycenters = {}

    def on_validation_epoch_start(self) -> None:
        self._start_evaluation(self.trainer.val_dataloaders)

    def on_test_epoch_start(self) -> None:
        self._start_evaluation(self.trainer.test_dataloaders)

    def validation_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        """Score a batch with one forward of :attr:`network` that also keeps each image's
        pooled ``b`` under its row's label (for :meth:`barycenter_divergence`)."""
        degraded, target = self.evaluation.crop(dataloader_idx, batch)
        out = self.network(degraded)
        if out.barycenter is not None:
            label = self.eval_labels[dataloader_idx]
            pooled = out.barycenter.detach().mean(dim=(2, 3)).float().cpu()
            self.eval_barycenters.setdefault(label, []).append(pooled)
        self.evaluation.score(dataloader_idx, batch, degraded, target, out.restored.clamp(0, 1))

    def test_step(
        self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0
    ) -> dict[str, Any]:
        """Score a batch through the one evaluation loop
        (:meth:`~baryir.evaluation.runner.EvaluationLoop.step`: crop,
        :func:`~baryir.inference.restore` with tiling and the out-of-memory fallback, scorer).

        Returns:
            The scored batch (cropped ``"input"``/``"target"``, ``"restored"``, ``"label"``,
            each image's ``"input_psnr"`` and ``"psnr"``), for callbacks such as
            :class:`~baryir.tasks.callbacks.TestReport`.
        """
        return self.evaluation.step(self.network, dataloader_idx, batch)

    def _finish_evaluation(self, phase: str) -> None:
        """Log every set's row and the mean; keep the rows in :attr:`eval_results`."""
        results = self.evaluation.finish()
        for label, row in results.items():
            for name, value in row.items():
                self.log(f"{phase}/{label}/{name}", value, add_dataloader_idx=False, sync_dist=True)
        finite = [row for row in results.values() if math.isfinite(row["psnr"])]
        if finite:
            # a clean row restored exactly scores inf; the progress-bar mean leaves it out
            mean = {k: sum(row[k] for row in finite) / len(finite) for k in ("psnr", "ssim")}
            self.log(f"{phase}/psnr", mean["psnr"], prog_bar=True, add_dataloader_idx=False)
            self.log(f"{phase}/ssim", mean["ssim"], add_dataloader_idx=False)
        self._eval_results = results

    def on_validation_epoch_end(self) -> None:
        self._finish_evaluation("val")
        if len(self.eval_barycenters) >= 2:
            self.log("val/b_divergence", self.barycenter_divergence(), add_dataloader_idx=False)

    def barycenter_divergence(self) -> float:
        """The study's alignment measure on the last validation: the scale-free Sinkhorn
        divergence between the validation rows' clouds of ``b`` (pooled over positions; each
        row one degradation; :func:`~baryir.evaluation.embedding.cloud_divergence`, blur 0.05).
        0: the rows share one distribution of ``b``; ``K / (K - 1)``: each row collapsed to its
        own point."""
        labels = [label for label, b in self.eval_barycenters.items() for part in b for _ in part]
        points = torch.cat([part for b in self.eval_barycenters.values() for part in b])
        return cloud_divergence(points, labels)

    def on_test_epoch_end(self) -> None:
        self._finish_evaluation("test")
