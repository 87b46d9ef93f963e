"""Sinkhorn alignment of the barycenter embeddings of every degradation source.

This is baryir's alternative to the paper's dual potentials (BARYIR.md section 4): the
debiased Sinkhorn divergence :math:`S_\varepsilon` of GeomLoss pulls the point clouds of
barycenter embeddings of all sources together, while the transport cost keeps each ``b`` close
to its ``z``.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import logging
import math
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

__all__ = [
    "AlignmentResult",
    "SinkhornAlignment",
    "barycenter_point_clouds",
    "pooled_alignment",
    "resolve_backend",
    "sinkhorn_alignment",
]

logger = logging.getLogger(__name__)

Backend = Literal["auto", "tensorized", "online"]
Points = Literal["tokens", "pooled"]


class AlignmentResult(NamedTuple):
    """Output of :func:`sinkhorn_alignment`.

    Attributes:
        loss: scalar alignment term (0, still attached to the graph, when ``num_pairs == 0``).
        num_pairs: number of source pairs that entered the sum.
        skipped_sources: sources in ``range(K)`` that had no sample in the batch.
    """

    loss: Tensor
    num_pairs: int
    skipped_sources: list[int]


# A GeomLoss "online" Sinkhorn forward and backward on CUDA, run in a child process: a broken
# KeOps install can segfault (seen with pykeops 2.3 on CUDA 13), which must not kill training.
_KEOPS_PROBE = """
import torch
from geomloss import SamplesLoss
x = torch.randn(64, 8, device="cuda", requires_grad=True)
y = torch.randn(48, 8, device="cuda")
SamplesLoss("sinkhorn", p=2, blur=0.05, backend="online")(x, y).backward()
print("keops-ok" if bool(torch.isfinite(x.grad).all()) else "keops-nan")
"""


@functools.lru_cache(maxsize=1)
def _keops_works() -> bool:
    """True when GeomLoss' KeOps backend runs on CUDA (probed once per process, in a child)."""
    if importlib.util.find_spec("pykeops") is None:
        return False
    logger.info("probing KeOps on CUDA in a child process (its first use compiles kernels)")
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _KEOPS_PROBE], capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning("KeOps probe failed (%s): Sinkhorn uses the tensorized backend", error)
        return False
    if probe.returncode != 0 or "keops-ok" not in probe.stdout:
        logger.warning(
            "KeOps does not work on CUDA here (probe exit code %s: %s): Sinkhorn uses the "
            "tensorized backend",
            probe.returncode,
            (probe.stderr.strip().splitlines() or ["no message"])[-1],
        )
        return False
    return True


def resolve_backend(backend: Backend, device: torch.device) -> Literal["tensorized", "online"]:
    """Pick the GeomLoss backend.

    ``"auto"`` gives ``"online"`` (KeOps, O(N) memory) when ``device`` is CUDA and pykeops works
    there, else ``"tensorized"`` (dense O(N^2) cost matrix, fastest on CPU for small clouds).
    """
    if backend in ("tensorized", "online"):
        return backend
    if backend != "auto":
        raise ValueError(
            f"resolve_backend: backend must be 'auto', 'tensorized' or 'online', got {backend!r}"
        )
    if device.type == "cuda" and _keops_works():
        return "online"
    return "tensorized"


def barycenter_point_clouds(
    barycenter: Tensor,
    source: Tensor,
    sources: list[int],
    points: Points = "tokens",
    num_points: int = 256,
    generator: torch.Generator | None = None,
) -> list[Tensor]:
    """Point cloud :math:`(N_k, C)` of barycenter embeddings for each source in ``sources``.

    ``"tokens"``: every spatial token (a ``C``-vector) of every image of source ``k``; when there
    are more than ``num_points`` they are subsampled without replacement by
    ``torch.randperm`` drawn on the CPU from ``generator`` (the global RNG when ``None``), so a
    seeded generator makes the choice reproducible. ``"pooled"``: one spatial-mean vector per
    image (never subsampled).

    Args:
        barycenter: :math:`(B, C, h, w)`.
        source: :math:`(B,)` long source index of every sample.
        sources: the source indices to gather (each must be present in ``source``).
        points: ``"tokens"`` or ``"pooled"``.
        num_points: maximum number of tokens per source.
        generator: optional CPU generator for the subsampling.
    """
    if points == "pooled":
        vectors = barycenter.mean(dim=(2, 3)).unsqueeze(1)
    elif points == "tokens":
        vectors = barycenter.flatten(2).transpose(1, 2)
    else:
        raise ValueError(
            f"barycenter_point_clouds: points must be 'tokens' or 'pooled', got {points!r}"
        )
    channels = barycenter.shape[1]
    clouds = []
    for k in sources:
        cloud = vectors[source == k].reshape(-1, channels)
        if points == "tokens" and cloud.shape[0] > num_points:
            keep = torch.randperm(cloud.shape[0], generator=generator)[:num_points]
            cloud = cloud[keep.to(cloud.device)]
        clouds.append(cloud)
    return clouds


def sinkhorn_alignment(
    barycenter: Tensor,
    source: Tensor,
    source_weights: Tensor,
    points: Points = "tokens",
    num_points: int = 256,
    blur: float = 0.05,
    scaling: float = 0.5,
    p: Literal[1, 2] = 2,
    backend: Literal["tensorized", "online"] = "tensorized",
    normalize: bool = False,
    generator: torch.Generator | None = None,
) -> AlignmentResult:
    r"""Weighted Sinkhorn divergence between the barycenter clouds of every pair of sources.

    .. math::

        A = \sum_{\{k, l\} \subseteq P} w_{kl}\, S_\varepsilon(X_k, X_l), \qquad
        w_{kl} = \frac{\lambda_k \lambda_l}{\sum_{\{k', l'\} \subseteq P} \lambda_{k'} \lambda_{l'}}

    over the unordered pairs of the set :math:`P` of sources present in the batch, with
    :math:`X_k` the cloud of :func:`barycenter_point_clouds` (uniform weights on its points) and
    :math:`S_\varepsilon` GeomLoss' debiased ``SamplesLoss("sinkhorn", p, blur, scaling)``,
    whose ``p=2`` ground cost is :math:`|x - y|^2 / 2` (so :math:`S_\varepsilon \approx W_2^2/2`
    for small blur). Which sources are present is read once (one host sync,
    ``set(source.tolist())``); the maths itself never branches on tensor values. The pairs are a
    Python loop over at most ``K (K - 1) / 2`` source pairs, not over samples. With fewer than two
    sources present the loss is ``0 * barycenter.sum()`` (zero, attached to the graph) and
    ``num_pairs == 0``.

    ``normalize=True`` divides the whole barycenter by the detached root-mean-square norm of its
    ``C``-vectors (tokens) over the batch, so ``blur`` is relative to the embedding scale and the
    loss is invariant to a global rescaling (the gradient still flows through the points).
    Points are computed in at least float32 (half precision is upcast).

    Args:
        barycenter: :math:`(B, C, h, w)`.
        source: :math:`(B,)` long, values in ``[0, K)``.
        source_weights: :math:`(K,)` the :math:`\lambda_k`.
        points, num_points, generator: see :func:`barycenter_point_clouds`.
        blur, scaling, p: GeomLoss parameters (:math:`\varepsilon = \text{blur}^p`).
        backend: ``"tensorized"`` or ``"online"`` (resolve ``"auto"`` with :func:`resolve_backend`).
        normalize: scale the points as described above.

    Returns:
        :class:`AlignmentResult`.

    Example:
        >>> b = torch.randn(4, 8, 2, 2)
        >>> out = sinkhorn_alignment(b, torch.tensor([0, 0, 1, 2]), torch.full((3,), 1 / 3))
        >>> out.num_pairs, out.skipped_sources
        (3, [])
    """
    if barycenter.dim() != 4:
        raise ValueError(
            f"sinkhorn_alignment: barycenter must be (B, C, h, w), got {tuple(barycenter.shape)}"
        )
    if source.shape != barycenter.shape[:1]:
        raise ValueError(
            f"sinkhorn_alignment: source must have shape ({barycenter.shape[0]},), "
            f"got {tuple(source.shape)}"
        )
    if source_weights.dim() != 1:
        raise ValueError(
            f"sinkhorn_alignment: source_weights must be (K,), got {tuple(source_weights.shape)}"
        )
    num_sources = source_weights.shape[0]
    ids = set(source.tolist())
    if not ids <= set(range(num_sources)):
        raise ValueError(
            f"sinkhorn_alignment: source values must lie in [0, {num_sources}), got {sorted(ids)}"
        )
    present = sorted(ids)
    skipped = [k for k in range(num_sources) if k not in ids]
    pairs = list(itertools.combinations(present, 2))
    if not pairs:
        return AlignmentResult(barycenter.sum() * 0.0, 0, skipped)

    dtype = torch.promote_types(barycenter.dtype, torch.float32)
    embeddings = barycenter.to(dtype)
    if normalize:
        scale = embeddings.detach().pow(2).sum(dim=1).mean().sqrt().clamp_min(1e-12)
        embeddings = embeddings / scale
    clouds = barycenter_point_clouds(embeddings, source, present, points, num_points, generator)
    cloud_of = dict(zip(present, clouds, strict=True))

    if not torch.cuda.is_available():
        # importing GeomLoss loads KeOps, which warns that it found no CUDA: expected on a CPU
        # host, so it is kept quiet unless KEOPS_VERBOSE says otherwise
        os.environ.setdefault("KEOPS_VERBOSE", "0")
    from geomloss import SamplesLoss  # imported here: importing it loads KeOps (slow, chatty)

    divergence = SamplesLoss(
        "sinkhorn", p=p, blur=blur, scaling=scaling, debias=True, backend=backend
    )
    lambdas = source_weights.to(device=barycenter.device, dtype=dtype)
    first, second = zip(*pairs, strict=True)
    pair_weights = lambdas[list(first)] * lambdas[list(second)]
    pair_weights = pair_weights / pair_weights.sum()
    values = torch.stack([_pair_divergence(divergence, cloud_of[k], cloud_of[m]) for k, m in pairs])
    return AlignmentResult((pair_weights * values).sum(), len(pairs), skipped)


def _pair_divergence(
    divergence: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor
) -> Tensor:
    """GeomLoss's divergence of two clouds ``(N, D)``, ``(M, D)``; 0 when every point of both is
    one and the same (GeomLoss's epsilon schedule starts at the clouds' diameter, and log(0)
    makes it endless: an untrained network's ``b`` can be constant)."""
    both = torch.cat([x, y])
    spread = (both.amax(dim=0) - both.amin(dim=0)).abs().max()
    if bool(spread == 0):
        return both.sum() * 0.0
    return divergence(x, y)


def _cost(x: Tensor, y: Tensor, p: Literal[1, 2]) -> Tensor:
    """GeomLoss' tensorized ground cost :math:`|x - y|^p / p` between rows, ``(N, M)``."""
    squared = (x * x).sum(-1)[:, None] - 2 * x @ y.T + (y * y).sum(-1)[None, :]
    return squared / 2 if p == 2 else squared.clamp_min(1e-8).sqrt()


def _logsumexp(x: Tensor) -> Tensor:
    """``x.logsumexp(-1, keepdim=True)`` for rows with a finite maximum, every term under
    ``e^-80`` times the largest counted as that (at most ``1e-33`` relative, under float64
    rounding): the CPU's exponential is many times slower on results that underflow."""
    top = x.amax(dim=-1, keepdim=True)
    return (x - top).clamp_min_(-80.0).exp_().sum(dim=-1, keepdim=True).log_().add_(top)


def pooled_alignment(
    barycenter: Tensor,
    source: Tensor,
    source_weights: Tensor,
    blur: float = 0.05,
    scaling: float = 0.5,
    p: Literal[1, 2] = 2,
    normalize: bool = False,
    max_diameter: float = 1e4,
) -> Tensor:
    r"""The loss of :func:`sinkhorn_alignment` for pooled points, with no host synchronisation.

    The same weighted sum of debiased Sinkhorn divergences (GeomLoss' ``SamplesLoss("sinkhorn",
    p, blur, scaling, debias=True)`` on the tensorized backend: the same epsilon-scaling
    schedule from the pair's diameter, symmetric log-domain updates and final extrapolation, so
    the same values and gradients to float rounding), computed for every pair of the ``K``
    sources at once, in a fixed number of iterations:

    * every source's cloud is all ``B`` pooled vectors, those of other sources weighted zero
      (log-weight :math:`-\infty`); a source absent from the batch gets uniform weights (any
      finite cloud) and its pairs weight zero;
    * the schedule of each pair, :math:`d^p, d^p, d^p s^p, \dots, 	ext{blur}^p` with :math:`d`
      its diameter, runs on the device; pairs whose schedule is shorter than the longest one
      hold their potentials for the extra iterations. The number of iterations is fixed by
      ``max_diameter``: pairs of a larger diameter skip the middle of their schedule (the last
      iteration stays at :math:`	ext{blur}^p`). Diameters under ``blur / 1000`` count as
      ``blur / 1000`` (GeomLoss fails on 0).

    Memory and work are :math:`O(K^2 B^2)`: meant for the training batch, not for large sets
    (:func:`sinkhorn_alignment` computes one pair at a time).

    Args:
        barycenter: :math:`(B, C, h, w)`, pooled over :math:`(h, w)`.
        source: :math:`(B,)` long; values outside ``[0, K)`` belong to no source.
        source_weights: :math:`(K,)` the :math:`\lambda_k`.
        blur, scaling, p, normalize: as in :func:`sinkhorn_alignment`.
        max_diameter: the largest pair diameter whose schedule runs in full.

    Returns:
        The scalar loss (0, attached to the graph, with fewer than two sources present).
    """
    num_sources = source_weights.shape[0]
    dtype = torch.promote_types(barycenter.dtype, torch.float32)
    embeddings = barycenter.to(dtype)
    if normalize:
        scale = embeddings.detach().pow(2).sum(dim=1).mean().sqrt().clamp_min(1e-12)
        embeddings = embeddings / scale
    if num_sources < 2:
        return embeddings.sum() * 0.0
    points = embeddings.mean(dim=(2, 3))
    fixed = points.detach()
    device = points.device
    ids = torch.arange(num_sources, device=device)
    member = source[None, :] == ids[:, None]
    present = member.any(dim=1)
    member = member | ~present[:, None]
    counts = member.sum(dim=1, keepdim=True).to(dtype)
    weights = member / counts
    log_weights = torch.where(member, -counts.log(), -torch.inf)
    first, second = torch.triu_indices(num_sources, num_sources, 1, device=device)
    groups = torch.stack([first, second], dim=1)  # (P, 2) the pair's two sources

    # the pair's diameter and GeomLoss' epsilon schedule, in float64 like GeomLoss' NumPy
    # (float32 on MPS, which has no float64)
    exact = torch.float32 if device.type == "mps" else torch.float64
    low = torch.where(member[:, :, None], fixed[None], torch.inf).amin(dim=1)
    high = torch.where(member[:, :, None], fixed[None], -torch.inf).amax(dim=1)
    spread = torch.maximum(high[first], high[second]) - torch.minimum(low[first], low[second])
    log_d = spread.to(exact).norm(dim=1).clamp_min(blur / 1000).log()[:, None]
    log_s, log_blur = math.log(scaling), math.log(blur)
    iterations = 2 + max(0, math.ceil((math.log(max_diameter) - log_blur) / -log_s))
    step = torch.arange(iterations, device=device, dtype=exact)
    middle = ((log_d - log_blur) / -log_s).ceil().clamp_min(0)  # GeomLoss' arange length
    last = (middle + 1).clamp_max(iterations - 1)
    eps = torch.where(
        step == last, blur**p, (p * (log_d + (step - 1).clamp_min(0) * log_s)).exp()
    ).to(dtype)
    half = 0.5 * (step <= last).to(dtype)  # averaging weight; 0 after the pair's schedule

    # potentials phi[pair, t, s, i, 0] on the points i of group t from the softmin over group s
    # (t, s in {0: first, 1: second}): phi[., 0, 1] = f_ba, [., 1, 0] = g_ab, [., 0, 0] = f_aa,
    # [., 1, 1] = g_bb; each update of (t, s) reads the potential (s, t) on the s points, so
    # phi.permute(0, 2, 1, 4, 3)[pair, t, s, 0, j]
    group_log_weights = log_weights[groups][:, None, :, None, :]  # (P, 1, 2, 1, B)
    cost = _cost(fixed, fixed, p)
    with torch.no_grad():
        eps = eps[:, :, None, None, None, None]
        scaled_costs = (cost / eps).unbind(1)
        phi = -eps[:, 0] * _logsumexp(group_log_weights - scaled_costs[0])
        for inverse, negative, cost_k, half_k in zip(
            (1 / eps).unbind(1),
            (-eps).unbind(1),
            scaled_costs,
            half[:, :, None, None, None, None].unbind(1),
            strict=True,
        ):
            h = torch.addcmul(group_log_weights, phi.permute(0, 2, 1, 4, 3), inverse)
            phi = phi.lerp(negative * _logsumexp(h - cost_k), half_k)
        final = group_log_weights.add(phi.permute(0, 2, 1, 4, 3), alpha=1 / blur**p)
    # the last extrapolation carries the gradient (the envelope theorem), through the points i
    phi = -(blur**p) * _logsumexp(final - _cost(points, fixed, p) / blur**p).squeeze(-1)
    signs = torch.tensor([[-1.0, 1.0], [1.0, -1.0]], device=device, dtype=dtype)
    divergence = (weights[groups][:, :, None] * signs[:, :, None] * phi).sum(dim=(1, 2, 3))
    lambdas = source_weights.to(device=device, dtype=dtype)
    pair_weights = lambdas[first] * lambdas[second] * (present[first] & present[second])
    total = (pair_weights * divergence).sum()
    return total / pair_weights.sum().clamp_min(torch.finfo(dtype).tiny)


class SinkhornAlignment(nn.Module):
    r"""The alignment loss of :func:`sinkhorn_alignment` as a module (the training objective's).

    Defaults: ``points="tokens"``, ``num_points=256``, ``blur=0.05``, ``scaling=0.5``, ``p=2``,
    ``backend="auto"``, ``normalize=False``. Pooled points go through
    :func:`pooled_alignment` (every pair at once, no host synchronisation) unless
    ``backend="online"`` asks for KeOps; tokens through GeomLoss, ``"auto"`` resolved on the
    first call from the device of the barycenter (see :func:`resolve_backend`). The choice is
    logged once per device at INFO level.

    Args:
        generator: optional CPU generator for the token subsampling (global RNG when ``None``).

    Example:
        >>> align = SinkhornAlignment(points="pooled")
        >>> b = torch.randn(6, 8, 4, 4, requires_grad=True)
        >>> loss = align(b, torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0.5, 0.3, 0.2]))
        >>> loss.backward()
    """

    def __init__(
        self,
        points: Points = "tokens",
        num_points: int = 256,
        blur: float = 0.05,
        scaling: float = 0.5,
        p: Literal[1, 2] = 2,
        backend: Backend = "auto",
        normalize: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if points not in ("tokens", "pooled"):
            raise ValueError(
                f"SinkhornAlignment: points must be 'tokens' or 'pooled', got {points!r}"
            )
        if backend not in ("auto", "tensorized", "online"):
            raise ValueError(
                "SinkhornAlignment: backend must be 'auto', 'tensorized' or 'online', "
                f"got {backend!r}"
            )
        if p not in (1, 2):
            raise ValueError(f"SinkhornAlignment: p must be 1 or 2, got {p!r}")
        if num_points < 1 or blur <= 0 or not 0 < scaling < 1:
            raise ValueError(
                "SinkhornAlignment: need num_points >= 1, blur > 0 and 0 < scaling < 1, got "
                f"{num_points}, {blur}, {scaling}"
            )
        self.points = points
        self.num_points = num_points
        self.blur = blur
        self.scaling = scaling
        self.p = p
        self.backend = backend
        self.normalize = normalize
        self.generator = generator
        self._resolved: dict[str, Literal["tensorized", "online"]] = {}

    def _backend_for(self, device: torch.device) -> Literal["tensorized", "online"]:
        if device.type not in self._resolved:
            if self.points == "pooled" and self.backend != "online":
                resolved: Literal["tensorized", "online"] = "tensorized"
                logger.info(
                    "SinkhornAlignment uses its own tensorized backend (all pairs at once) on %s",
                    device.type,
                )
            else:
                resolved = resolve_backend(self.backend, device)
                logger.info(
                    "SinkhornAlignment uses the GeomLoss %r backend on %s", resolved, device.type
                )
            self._resolved[device.type] = resolved
        return self._resolved[device.type]

    def forward(self, barycenter: Tensor, source: Tensor, source_weights: Tensor) -> Tensor:
        """The scalar alignment loss; arguments as :func:`sinkhorn_alignment`'s."""
        backend = self._backend_for(barycenter.device)
        if self.points == "pooled" and backend == "tensorized":
            return pooled_alignment(
                barycenter,
                source,
                source_weights,
                blur=self.blur,
                scaling=self.scaling,
                p=self.p,
                normalize=self.normalize,
            )
        return sinkhorn_alignment(
            barycenter,
            source,
            source_weights,
            points=self.points,
            num_points=self.num_points,
            blur=self.blur,
            scaling=self.scaling,
            p=self.p,
            backend=backend,
            normalize=self.normalize,
            generator=self.generator,
        ).loss
