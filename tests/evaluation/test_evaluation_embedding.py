"""Embedding view: PCA, separation scores with known answers and the picture."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from baryir.evaluation.embedding import (
    Embeddings,
    centroid_accuracy,
    pca_2d,
    plot_embeddings,
    separation_scores,
    silhouette,
)


def clusters(spread: float, n: int = 12, dim: int = 8, seed: int = 0) -> tuple[torch.Tensor, list]:
    """Three Gaussian clusters with centres 10 apart and standard deviation ``spread``."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.eye(3, dim) * 10
    points = centres.repeat_interleave(n, 0) + spread * torch.randn(3 * n, dim, generator=generator)
    return points, [name for name in "xyz" for _ in range(n)]


def test_silhouette_known_value() -> None:
    # 1-D: {0, 1} and {10, 11}; by hand: point 0 has a = 1, b = 10.5, point 1 a = 1, b = 9.5
    points = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    expected = (9.5 / 10.5 + 8.5 / 9.5) / 2
    assert silhouette(points, ["a", "a", "b", "b"]) == pytest.approx(expected, abs=1e-12)
    # a single-point type scores 0 for that point
    assert silhouette(torch.tensor([[0.0], [1.0], [5.0]]), ["a", "a", "b"]) == pytest.approx(
        (2 * (4.5 / 5)) / 3 * 0 + ((5 - 1) / 5 + (4 - 1) / 4) / 3
    )


def test_centroid_accuracy_leave_one_out() -> None:
    # the point at 4 is nearer the other type's centroid (10) than its own without it (0)
    points = torch.tensor([[0.0], [0.0], [6.0], [10.0], [10.0]])
    assert centroid_accuracy(points, ["a", "a", "a", "b", "b"]) == pytest.approx(4 / 5)


def test_scores_higher_for_separated_than_mixed_clusters() -> None:
    separated, labels = clusters(spread=0.5)
    mixed, _ = clusters(spread=50.0)
    assert silhouette(separated, labels) > 0.8 > 0.1 > silhouette(mixed, labels)
    assert centroid_accuracy(separated, labels) == 1.0
    assert centroid_accuracy(mixed, labels) < 0.8


def test_pca_2d_finds_the_dominant_axes() -> None:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(50, 5, generator=generator) * torch.tensor([10.0, 5.0, 0.1, 0.1, 0.1])
    projected = pca_2d(x)
    assert projected.shape == (50, 2)
    centred = (x - x.mean(0)).double()
    eigenvalues = torch.linalg.eigvalsh(centred.T @ centred / 49).flip(0)
    variances = projected.double().var(dim=0)
    assert torch.allclose(variances, eigenvalues[:2], rtol=1e-4)  # the top-2 variances
    covariance = (projected.double() - projected.double().mean(0)).prod(dim=1).mean()
    assert abs(float(covariance)) < 1e-3  # uncorrelated axes
    assert torch.equal(pca_2d(x), projected)  # deterministic signs


def test_plot_writes_png(tmp_path: Path) -> None:
    separated, labels = clusters(spread=0.5)
    mixed, _ = clusters(spread=50.0)
    embeddings = Embeddings(barycenter=mixed, residual=separated, labels=labels)
    scores = separation_scores(embeddings)
    assert scores["residual"]["silhouette"] > scores["barycenter"]["silhouette"]
    path = plot_embeddings(embeddings, tmp_path / "sub" / "embedding.png", scores)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["embedding.png"]  # no temp file left
