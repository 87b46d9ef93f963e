"""The Lightning task that trains and evaluates a restoration network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from baryir.losses import pixel_loss
from baryir.losses.objective import sum_terms
from baryir.metrics import EvalProtocol
from baryir.tasks.average import update_average
from baryir.tasks.balance import GradientShares, ShareConfig
from baryir.tasks.barycenter import BarycenterAlignment, BarycenterConfig, StepContext
from baryir.tasks.evaluation import EvaluationTask
from baryir.tasks.guard import GuardConfig, NoGuard, TrainingGuard
from baryir.tasks.kernels import Kernels, with_kernels
from baryir.tasks.network import class_spec, task_network
from baryir.tasks.schedule import cosine_schedule

PIECES = {"objective": BarycenterConfig, "guard": GuardConfig, "grad_shares": ShareConfig}
"""The task's pieces a config turns on: argument -> the dataclass of its primitive settings."""


class RestorationTask(EvaluationTask):
    """Train and evaluate a restoration network: pixel loss, optimisers, schedule, weight
    average and evaluation, plus the pieces of :data:`PIECES` that a config turns on.

    ``model`` is a registry name (with ``model_args``) or a class path with its ``init_args``
    (a network returning only the image is wrapped by
    :class:`~baryir.models.plain.PlainNetwork`); checkpoints hold primitives only and load
    with ``weights_only=True``. Optimisation is manual: one network update per batch
    (``trainer.max_steps`` counts them), then one of the objective's dual potentials if any.

    Args:
        model, model_args: the network (registry name + overrides, or a class path).
        num_sources: number of degradation sources K (linked from the data by the CLI).
        pixel_loss, pixel_weight: ``l1`` (paper) or ``charbonnier``, times :math:`S` (1e4).
        objective: the BaryIR objective (:class:`~baryir.tasks.barycenter.BarycenterConfig`,
            the paper's weights); None, or a network without a barycenter: pixel term alone.
        guard: the non-finite guard (:class:`~baryir.tasks.guard.GuardConfig`); None: none.
        grad_shares: the gradient-share diagnostics and balancer
            (:class:`~baryir.tasks.balance.ShareConfig`); None (default): off.
        identity_init: start from the identity (``model.init_identity()``; fresh runs).
        ema_decay: average the weights (0: none); the average evaluates, checkpoints hold both.
        lr_schedule: ``step`` (the paper: ``lr_scheduler``, default StepLR x0.1 every 30
            epochs, stepped every epoch) or ``cosine`` (linear warm-up over ``warmup_steps``,
            then cosine to ``min_lr_ratio`` x lr at the last update; both optimisers).
        optimizer: network optimiser (default: RMSprop, lr 1e-4, the paper's).
        optimizer_kernels: rebuild the optimisers with fused/foreach kernels
            (:data:`~baryir.tasks.kernels.Kernels`).
        lr_scheduler: network scheduler of the ``step`` schedule.
        potentials_optimizer, potentials_lr_scheduler: those of the dual potentials.
        gradient_clip_val: clip the network's gradient norm (None: no clipping).
        metric_channel, metric_crop_border, metric_size_policy: the evaluation protocol
            (:class:`~baryir.metrics.EvalProtocol`).
        eval_tile, eval_tile_overlap: test in tiles (:func:`~baryir.inference.restore`).
        compile, compile_backend, compile_mode: ``torch.compile`` the network.

    Callbacks read ``network``, ``wb_solver``, ``protocol``, ``eval_labels``,
    ``eval_results`` and the step outputs (:mod:`baryir.tasks.callbacks`).
    """

    def __init__(
        self,
        model: str | nn.Module = "baryir-tiny",
        model_args: dict[str, Any] | None = None,
        num_sources: int = 3,
        pixel_loss: Literal["l1", "charbonnier"] = "l1",
        pixel_weight: float = 10000.0,
        objective: BarycenterConfig | None = BarycenterConfig(),
        guard: GuardConfig | None = GuardConfig(),
        grad_shares: ShareConfig | None = None,
        identity_init: bool = False,
        ema_decay: float = 0.0,
        lr_schedule: Literal["step", "cosine"] = "step",
        warmup_steps: int = 0,
        min_lr_ratio: float = 0.0,
        optimizer: OptimizerCallable | None = None,
        optimizer_kernels: Kernels = "auto",
        lr_scheduler: LRSchedulerCallable | None = None,
        potentials_optimizer: OptimizerCallable | None = None,
        potentials_lr_scheduler: LRSchedulerCallable | None = None,
        gradient_clip_val: float | None = None,
        metric_channel: Literal["rgb", "y"] = "rgb",
        metric_crop_border: int = 0,
        metric_size_policy: Literal["crop", "pad"] = "crop",
        eval_tile: int | None = None,
        eval_tile_overlap: int = 32,
        compile: bool = False,
        compile_backend: str = "inductor",
        compile_mode: str | None = None,
    ) -> None:
        protocol = EvalProtocol(
            channel=metric_channel, crop_border=metric_crop_border, size_policy=metric_size_policy
        )
        super().__init__(protocol, eval_tile, eval_tile_overlap)
        # Evaluation settings stay out of the checkpoint's hyper-parameters: LightningCLI applies
        # a checkpoint's hyper-parameters over the command line, and these must stay overridable.
        evaluation = ["metric_channel", "metric_crop_border", "metric_size_policy", "eval_tile"]
        factories = ["optimizer", "lr_scheduler", "potentials_optimizer", "potentials_lr_scheduler"]
        self.save_hyperparameters(ignore=[*factories, *evaluation, "eval_tile_overlap"])
        self.automatic_optimization = False
        if warmup_steps < 0 or not 0.0 <= min_lr_ratio <= 1.0 or not 0.0 <= ema_decay < 1.0:
            raise ValueError(
                f"need warmup_steps >= 0, min_lr_ratio in [0, 1] and ema_decay in [0, 1), got "
                f"{warmup_steps}, {min_lr_ratio} and {ema_decay}"
            )
        if warmup_steps and lr_schedule != "cosine":
            raise ValueError(f"warmup_steps={warmup_steps} needs lr_schedule='cosine'")
        self.model = task_network(model, model_args)
        if isinstance(model, nn.Module) and not isinstance(self.hparams.get("model"), Mapping):
            self.hparams["model"] = class_spec(model)  # given as an object, not by the CLI
        if identity_init:
            self.model.init_identity()
        self.ema: AveragedModel | None = None
        if ema_decay:
            self.ema = AveragedModel(
                self.model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True
            )
            self.ema.requires_grad_(False)
        given = {"objective": objective, "guard": guard, "grad_shares": grad_shares}
        pieces = {k: PIECES[k](**v) if isinstance(v, Mapping) else v for k, v in given.items()}
        for name, value in pieces.items():  # checkpoints hold primitives only
            self.hparams[name] = None if value is None else value.to_dict()
        self.objective: BarycenterAlignment | None = None
        if pieces["objective"] is not None and self.model.has_barycenter:
            channels = self.model.latent_channels
            self.objective = BarycenterAlignment(pieces["objective"], num_sources, channels)
        self.register_buffer("source_weights", torch.full((num_sources,), 1.0 / num_sources))
        self.guard = NoGuard() if pieces["guard"] is None else TrainingGuard(pieces["guard"])
        self.shares: GradientShares | None = None
        if pieces["grad_shares"] is not None:
            alignment = self.objective.alignment_term if self.objective is not None else None
            self.shares = GradientShares(pieces["grad_shares"], alignment)
        self.factories = [optimizer, lr_scheduler, potentials_optimizer, potentials_lr_scheduler]

    @property
    def network(self) -> nn.Module:
        """The network that evaluates: the weight average when ``ema_decay`` is set."""
        return self.ema.module if self.ema is not None else self.model

    @property
    def potentials(self) -> nn.Module | None:
        """The objective's dual potentials (None without them)."""
        return self.objective.potentials if self.objective is not None else None

    @property
    def wb_solver(self) -> str:
        """The WB solver in use (``none`` without an objective)."""
        return self.objective.config.wb_solver if self.objective is not None else "none"

    def configure_model(self) -> None:
        if self.hparams.compile:
            # In place: the state dict keeps its names (no ``_orig_mod.`` prefix).
            self.model.compile(backend=self.hparams.compile_backend, mode=self.hparams.compile_mode)

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        weights = getattr(datamodule, "source_weights", None) if stage == "fit" else None
        if weights is None:
            return
        weights = torch.as_tensor(weights, dtype=torch.float32)
        if weights.numel() != self.hparams.num_sources:
            raise ValueError(
                f"model.num_sources={self.hparams.num_sources} but the data has "
                f"{weights.numel()} degradation sources {getattr(datamodule, 'source_names', [])}"
                f"; set --model.num_sources {weights.numel()}"
            )
        self.source_weights.copy_(weights)

    def configure_optimizers(self) -> Any:
        optimizer, scheduler, potentials_optimizer, potentials_scheduler = self.factories
        groups = [(list(self.model.parameters()), optimizer, scheduler)]
        if self.potentials is not None:
            groups.append(
                (list(self.potentials.parameters()), potentials_optimizer, potentials_scheduler)
            )
        optimizers = [
            with_kernels(
                factory(params) if factory else torch.optim.RMSprop(params, lr=1e-4),
                self.hparams.optimizer_kernels,
            )
            for params, factory, _ in groups
        ]
        self.guard.configure(optimizers)
        if self.hparams.lr_schedule == "cosine":
            total = self.trainer.estimated_stepping_batches
            hp = self.hparams
            return optimizers, [
                cosine_schedule(o, total, hp.warmup_steps, hp.min_lr_ratio) for o in optimizers
            ]
        schedulers = [
            factory(opt) if factory else torch.optim.lr_scheduler.StepLR(opt, 30, gamma=0.1)
            for opt, (_, _, factory) in zip(optimizers, groups, strict=True)
        ]
        return optimizers, schedulers

    def _gather(self, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
        """All-gather ``(B, ...)`` tensors (with gradients) across DDP ranks."""
        gathered = self.all_gather(tensors, sync_grads=True)
        return {k: v.flatten(0, 1) for k, v in gathered.items()}

    def _mean(self, tensor: Tensor) -> Tensor:
        return self.trainer.strategy.reduce(tensor, reduce_op="mean")

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        if batch_idx == 0 and self.current_epoch > 0 and self.hparams.lr_schedule == "step":
            self._step_schedulers()
        optimizers = self.optimizers()
        net_opt, *others = optimizers if isinstance(optimizers, list) else [optimizers]
        distributed = self.trainer.world_size > 1
        out = self.model(batch["input"])
        pixel = pixel_loss(out.restored, batch["target"], self.hparams.pixel_loss)
        weighted, terms = {"pixel": self.hparams.pixel_weight * pixel}, {"pixel": pixel.detach()}
        embeddings: dict[str, Tensor] = {}
        if self.objective is not None:
            gather = self._gather if distributed else None
            extra, extra_terms, embeddings = self.objective.network_terms(
                out, batch, self.source_weights, gather
            )
            weighted, terms = weighted | extra, terms | extra_terms
        if self.shares is not None:
            weighted = self.shares.scale(weighted)
        total, step, guard = sum_terms(weighted), self.global_step, self.guard
        if self.shares is not None and self.shares.due(step):
            if not guard.check("loss", step, total):
                return total.detach()
            self.shares.measure(
                weighted, list(self.model.parameters()), self._mean if distributed else None
            )
        net_opt.zero_grad()
        self.manual_backward(total)
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        bad, drop = guard.inspect("", step, total, grads)
        if drop:
            net_opt.zero_grad()
            return total.detach()
        if self.hparams.gradient_clip_val:
            self.clip_gradients(net_opt, gradient_clip_val=self.hparams.gradient_clip_val)
        guard.step(net_opt.optimizer, bad, net_opt.step)
        if self.ema is not None:
            skip = bad if guard.deferred else None
            update_average(self.ema, self.model, self.hparams.ema_decay, skip)
        passed = True
        if self.potentials is not None:
            context = StepContext(
                step,
                guard,
                bad,
                self._gather if distributed else None,
                self._mean if distributed else None,
            )
            potential_terms, bad = self.objective.potentials_step(
                others[0].optimizer, self.model, batch, embeddings, self.source_weights, context
            )
            passed, terms = bool(potential_terms), terms | potential_terms
        guard.end_step(bad, step, self.trainer.log_every_n_steps or 50, passed)
        if self.hparams.lr_schedule == "cosine":
            self._step_schedulers()
        size = batch["input"].shape[0]
        logged = {"loss": total.detach(), **terms, **(self.shares.logged() if self.shares else {})}
        if not isinstance(guard, NoGuard):
            logged["nonfinite_steps"] = guard.pending_total()
        for name, value in logged.items():
            self.log(f"train/{name}", value, batch_size=size)
        return total.detach()

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
