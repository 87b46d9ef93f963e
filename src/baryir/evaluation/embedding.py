"""Where images of different degradations land in the barycenter and residual spaces.

The paper's claim: the barycenter embedding ``b`` is shared across degradation types (the
points of different types mix), while the residual ``r = z - b`` carries the degradation (the
types separate). :func:`collect_embeddings` pools ``b`` and ``r`` spatially for images of
several sets, :func:`pca_2d` projects them, :func:`plot_embeddings` draws ``b`` (left) and
``r`` (right) coloured by set, and :func:`separation_scores` puts a number on it:

- ``silhouette``: mean silhouette ``(b_i - a_i) / max(a_i, b_i)`` in the full pooled space
  (``a_i``: mean distance to the other points of its type, ``b_i``: smallest mean distance to
  another type; 0 for a type with one point). +1: tight separated types, about 0: mixed.
- ``centroid_accuracy``: leave-one-out nearest-centroid accuracy (chance is ``1 / types``);
- :func:`cloud_divergence`: the mean debiased Sinkhorn divergence between the types' clouds,
  in units of their total variance (0: one shared distribution).

:func:`draw_embeddings` draws one network's ``b`` and ``r`` on two given axes (the study draws
one line per arm with it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

__all__ = [
    "Embeddings",
    "centroid_accuracy",
    "cloud_divergence",
    "collect_embeddings",
    "draw_embeddings",
    "pca_2d",
    "plot_embeddings",
    "separation_scores",
    "silhouette",
]


@dataclass
class Embeddings:
    """Spatially pooled embeddings of ``N`` images.

    Attributes:
        barycenter: ``(N, C)`` mean of ``b`` over its spatial positions.
        residual: ``(N, C)`` mean of ``r`` over its spatial positions.
        labels: ``N`` degradation type (set) names.
    """

    barycenter: Tensor
    residual: Tensor
    labels: list[str]


def _center_crop(image: Tensor, size: int | None) -> Tensor:
    if size is None:
        return image
    height, width = image.shape[-2:]
    top, left = max((height - size) // 2, 0), max((width - size) // 2, 0)
    return image[..., top : top + size, left : left + size]


def collect_embeddings(
    model: nn.Module,
    datasets: Sequence[Dataset],
    max_images: int | None = 16,
    crop: int | None = 128,
    device: torch.device | str | None = None,
) -> Embeddings:
    """Pool ``b`` and ``r`` of the first ``max_images`` inputs of each dataset.

    Args:
        model: a network with ``has_barycenter = True`` (its output has ``barycenter`` and
            ``residual`` ``(B, C, h, w)``).
        datasets: one per degradation type; labelled by their ``label`` attribute.
        max_images: inputs per dataset (``None``: all).
        crop: central crop side of each input (bounds the cost; ``None``: whole images).
        device: where the model runs (default: where it is).
    """
    if not getattr(model, "has_barycenter", False):
        raise ValueError(
            f"collect_embeddings: {type(model).__name__} has no barycenter (a baseline model)"
        )
    if device is not None:
        model.to(device)
    run_device = device or next(model.parameters()).device
    pooled_b, pooled_r, labels = [], [], []
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for index, dataset in enumerate(datasets):
                label = str(getattr(dataset, "label", f"set{index}"))
                count = len(dataset) if max_images is None else min(len(dataset), max_images)
                for item_index in range(count):
                    image = _center_crop(dataset[item_index]["input"], crop)
                    output = model(image[None].to(run_device))
                    pooled_b.append(output.barycenter.float().mean(dim=(2, 3)).cpu())
                    pooled_r.append(output.residual.float().mean(dim=(2, 3)).cpu())
                    labels.append(label)
    finally:
        model.train(was_training)
    if not labels:
        raise ValueError("collect_embeddings: the datasets hold no images")
    return Embeddings(torch.cat(pooled_b), torch.cat(pooled_r), labels)


def pca_2d(features: Tensor) -> Tensor:
    """Project ``(N, D)`` features on their first two principal axes: ``(N, 2)``.

    Centred SVD; the sign of each axis is fixed (largest-magnitude loading positive) so the
    picture does not flip between runs. Fewer than two non-trivial axes give zero columns.
    """
    centred = features.double() - features.double().mean(dim=0, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    axes = vh[:2]
    signs = torch.sign(axes.gather(1, axes.abs().argmax(dim=1, keepdim=True)))
    axes = axes * torch.where(signs == 0, torch.ones_like(signs), signs)
    projected = centred @ axes.T
    if projected.shape[1] < 2:
        projected = torch.cat([projected, projected.new_zeros(len(projected), 1)], dim=1)
    return projected.float()


def _one_hot(labels: Sequence[str]) -> tuple[Tensor, Tensor]:
    """``(N, K)`` float one-hot and ``(N,)`` integer codes of ``labels`` (types sorted)."""
    names = sorted(set(labels))
    codes = torch.tensor([names.index(label) for label in labels])
    return torch.nn.functional.one_hot(codes, len(names)).double(), codes


def silhouette(features: Tensor, labels: Sequence[str]) -> float:
    """Mean silhouette of ``(N, D)`` features grouped by ``labels`` (Euclidean), in ``[-1, 1]``.

    Matches ``sklearn.metrics.silhouette_score``; points of a single-point type score 0.
    """
    onehot, codes = _one_hot(labels)
    if onehot.shape[1] < 2:
        raise ValueError("silhouette: needs at least two degradation types")
    x = features.double()
    distances = torch.cdist(x, x)
    sums = distances @ onehot  # (N, K): summed distance from each point to each type
    counts = onehot.sum(dim=0)
    own = codes[:, None]
    own_count = counts[codes]
    a = sums.gather(1, own)[:, 0] / (own_count - 1).clamp(min=1)
    other_means = (sums / counts).scatter(1, own, math.inf)
    b = other_means.min(dim=1).values
    score = (b - a) / torch.maximum(a, b).clamp(min=1e-12)
    score = torch.where(own_count > 1, score, torch.zeros_like(score))
    return float(score.mean())


def centroid_accuracy(features: Tensor, labels: Sequence[str]) -> float:
    """Leave-one-out nearest-centroid accuracy of ``(N, D)`` features, in ``[0, 1]``.

    Each point is classified by the closest type centroid, its own type's centroid computed
    without it (a single-point type then has no centroid and cannot be chosen for that point).
    """
    onehot, codes = _one_hot(labels)
    x = features.double()
    sums = onehot.T @ x  # (K, D)
    counts = onehot.sum(dim=0)  # (K,)
    centroids = sums / counts[:, None]
    distances = torch.cdist(x, centroids)  # (N, K)
    loo_count = counts[codes] - 1
    loo_centroid = (sums[codes] - x) / loo_count.clamp(min=1)[:, None]
    own_distance = (x - loo_centroid).norm(dim=1)
    own_distance = torch.where(loo_count > 0, own_distance, torch.full_like(own_distance, math.inf))
    distances = distances.scatter(1, codes[:, None], own_distance[:, None])
    return float((distances.argmin(dim=1) == codes).double().mean())


def separation_scores(embeddings: Embeddings) -> dict[str, dict[str, float]]:
    """Scores per space: ``{"barycenter"|"residual": {"silhouette", "centroid_accuracy"}}``."""
    return {
        space: {
            "silhouette": silhouette(features, embeddings.labels),
            "centroid_accuracy": centroid_accuracy(features, embeddings.labels),
        }
        for space, features in (
            ("barycenter", embeddings.barycenter),
            ("residual", embeddings.residual),
        )
    }


def cloud_divergence(features: Tensor, labels: Sequence[str], blur: float = 0.05) -> float:
    r"""Mean debiased Sinkhorn divergence between the clouds of every pair of types, scale-free.

    .. math::

        D = \frac{2}{K (K - 1)} \sum_{k < l} S_\varepsilon(X_k / \sigma, X_l / \sigma),
        \qquad \sigma^2 = \frac{1}{N} \sum_i \lVert x_i - \bar x \rVert^2

    with :math:`X_k` the points of type ``k`` (uniform weights), :math:`\bar x` the mean of all
    ``N`` points and :math:`S_\varepsilon` GeomLoss' debiased ``SamplesLoss("sinkhorn", p=2,
    blur)`` (cost :math:`\lVert x - y \rVert^2 / 2`, :math:`\varepsilon = \text{blur}^2`),
    computed by :func:`baryir.losses.sinkhorn.sinkhorn_alignment` (pooled points, uniform type
    weights, the tensorized backend, float64). :math:`S_\varepsilon` ignores a common shift, and
    dividing by :math:`\sigma` (the root of the total variance) makes ``D`` invariant to scaling
    every feature by one factor, so networks whose latents have different scales compare; the
    uncentred norm would instead shrink ``D`` for features sharing a large common offset. ``blur``
    is relative to :math:`\sigma`. ``D = 0`` for identical clouds; for types that differ only by a
    shift it is about ``K / (K - 1)`` times the share of the variance between the types' means
    (``K / (K - 1)`` for types collapsed to separate points, e.g. 2 for two types). With few
    points per type, two samples of one distribution already give ``D > 0`` (more so in many
    dimensions): compare values measured on the same number of points.

    Args:
        features: ``(N, D)``.
        labels: ``N`` type names (at least two types).
        blur: the Sinkhorn blur in units of :math:`\sigma`.

    Example:
        >>> x = torch.tensor([[0.0], [0.0], [4.0], [4.0]])
        >>> round(cloud_divergence(x, ["a", "a", "b", "b"]), 3)  # Diracs 2 sigma apart: 2^2 / 2
        2.0
    """
    from baryir.losses.sinkhorn import sinkhorn_alignment

    _, codes = _one_hot(labels)
    types = int(codes.max()) + 1
    if types < 2:
        raise ValueError("cloud_divergence: needs at least two degradation types")
    x = features.double()
    centred = (x - x.mean(dim=0, keepdim=True))[:, :, None, None]
    result = sinkhorn_alignment(
        centred,
        codes,
        torch.full((types,), 1.0 / types, dtype=torch.float64),
        points="pooled",
        blur=blur,
        backend="tensorized",
        normalize=True,
    )
    return float(result.loss)


def _scatter(
    ax: Any, features: Tensor, labels: Sequence[str], names: Sequence[str], colours: Any
) -> None:
    """The 2-D PCA of ``(N, D)`` features on ``ax``, one colour per type in ``names``."""
    points = pca_2d(features)
    for k, name in enumerate(names):
        mask = torch.tensor([label == name for label in labels])
        ax.scatter(points[mask, 0], points[mask, 1], s=18, color=colours(k), label=name)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")


def _title(space: str, score: dict[str, float]) -> str:
    symbol = "b" if space == "barycenter" else "r"
    return (
        f"{space} {symbol}: silhouette {score['silhouette']:.2f}, "
        f"centroid acc. {score['centroid_accuracy']:.2f}"
    )


def draw_embeddings(
    axes: Sequence[Any],
    embeddings: Embeddings,
    types: Sequence[str],
    colours: Any,
    scores: dict[str, dict[str, float]],
    title_prefix: str = "",
) -> None:
    """The 2-D PCA of ``b`` on ``axes[0]`` and of ``r`` on ``axes[1]`` (matplotlib axes), one
    colour per type of ``types`` (``colours(k)`` for the k-th), titled with ``title_prefix`` and
    the separation ``scores`` (:func:`separation_scores`)."""
    for ax, (space, features) in zip(
        axes,
        (("barycenter", embeddings.barycenter), ("residual", embeddings.residual)),
        strict=True,
    ):
        _scatter(ax, features, embeddings.labels, types, colours)
        ax.set_title(f"{title_prefix}{_title(space, scores[space])}", fontsize=10)


def plot_embeddings(
    embeddings: Embeddings, path: Path, scores: dict[str, dict[str, float]] | None = None
) -> Path:
    """Scatter the 2-D PCA of ``b`` (left) and ``r`` (right), coloured by type; PNG, atomic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from baryir.evaluation.report import save_figure

    scores = scores or separation_scores(embeddings)
    names = sorted(set(embeddings.labels))
    colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    draw_embeddings(axes, embeddings, names, colours, scores)
    axes[1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    return save_figure(fig, path)
