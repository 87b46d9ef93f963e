"""Sinkhorn divergence and SinkhornAlignment: known values against closed-form W2, API checks.

GeomLoss' p=2 ground cost is |x - y|^2 / 2, so for small blur S_eps ~= W2^2 / 2.
"""

import logging
import math

import pytest
import torch
from geomloss import SamplesLoss

from baryir.losses import AlignmentResult, SinkhornAlignment, resolve_backend, sinkhorn_alignment
from baryir.losses.sinkhorn import pooled_alignment

LAMBDAS2 = torch.tensor([0.5, 0.5])


def _divergence(x: torch.Tensor, y: torch.Tensor, blur: float = 0.05) -> torch.Tensor:
    """S_eps(x, y) through sinkhorn_alignment: two sources, pooled points (one per row)."""
    b = torch.cat([x, y])[:, :, None, None]
    source = torch.cat([torch.zeros(len(x)), torch.ones(len(y))]).long()
    return sinkhorn_alignment(b, source, LAMBDAS2, points="pooled", blur=blur).loss


def _gaussian(n: int, dim: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_identical_clouds_zero() -> None:
    x = _gaussian(200, 3, 0)
    assert abs(_divergence(x, x.clone()).item()) < 1e-6


@pytest.mark.parametrize("points", ["pooled", "tokens"])
def test_clouds_of_one_single_point_give_zero(points: str) -> None:
    """A constant b (an untrained network's can be) is no error: GeomLoss's schedule would start
    at log(diameter 0), so such pairs are 0, by either path."""
    b = torch.zeros(6, 8, 4, 4, requires_grad=True)
    source = torch.tensor([0, 0, 1, 1, 2, 2])
    loss = sinkhorn_alignment(b, source, torch.ones(3), points=points).loss
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(b.grad, torch.zeros_like(b))
    assert pooled_alignment(b.detach(), source, torch.ones(3)).item() == 0.0


def test_positive_and_increasing_with_shift() -> None:
    x, y = _gaussian(256, 2, 0), _gaussian(256, 2, 1)
    values = [_divergence(x, y + s).item() for s in (0.0, 0.5, 1.0, 2.0)]
    assert values[0] > 0
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values


@pytest.mark.parametrize("shift", [[0.5, 0.0], [1.0, -2.0], [3.0, 1.0]])
def test_shifted_copy_matches_closed_form(shift: list[float]) -> None:
    # Y = X + s: the identity matching is optimal, W2^2 = |s|^2 exactly (empirical measures), and
    # the debiased entropic divergence of a translated copy is exactly |s|^2 / 2 at any blur (the
    # translation only adds terms linear in x or y, which the dual potentials absorb), so only
    # float64 round-off is allowed.
    x = _gaussian(256, 2, 0)
    s = torch.tensor(shift, dtype=torch.float64)
    expected = s.pow(2).sum() / 2
    torch.testing.assert_close(_divergence(x, x + s, blur=0.01), expected, rtol=1e-6, atol=1e-8)


def test_independent_gaussians_match_closed_form_w2() -> None:
    # N(mu1, I) vs N(mu2, I) in 2-D, same covariance: W2^2 = |mu1 - mu2|^2. Both samples are
    # centred so their means are exact; what is left is the sampling bias of two independent
    # 500-point clouds (0.014 here: the divergence at zero shift), hence atol 0.04 on the raw
    # values (0.5 to 6.5), and 1e-3 once that zero-shift bias is subtracted.
    x, y = _gaussian(500, 2, 0), _gaussian(500, 2, 1)
    x, y = x - x.mean(0), y - y.mean(0)
    bias = _divergence(x, y, blur=0.01)
    assert 0 < bias.item() < 0.04
    for delta in ([1.0, 0.0], [1.0, 2.0], [2.0, -3.0]):
        mu = torch.tensor(delta, dtype=torch.float64)
        expected = mu.pow(2).sum() / 2
        value = _divergence(x, y + mu, blur=0.01)
        torch.testing.assert_close(value, expected, rtol=0, atol=0.04)
        torch.testing.assert_close(value - bias, expected, rtol=0, atol=1e-3)


def test_gradient_of_shift_matches_closed_form() -> None:
    # S(X, X + s) ~= |s|^2 / 2, so dS/ds ~= s
    x = _gaussian(128, 2, 0)
    s = torch.tensor([1.0, -0.5], dtype=torch.float64, requires_grad=True)
    _divergence(x, x + s, blur=0.01).backward()
    torch.testing.assert_close(s.grad, s.detach(), rtol=1e-2, atol=1e-3)


def test_tokens_known_value() -> None:
    # every token of source 0 is u, of source 1 is v: S = |u - v|^2 / 2 = (1 + 4) / 2
    b = torch.zeros(4, 2, 3, 3, dtype=torch.float64)
    b[2:, 0], b[2:, 1] = 1.0, 2.0
    source = torch.tensor([0, 0, 1, 1])
    out = sinkhorn_alignment(b, source, LAMBDAS2, points="tokens", num_points=5, blur=0.01)
    torch.testing.assert_close(out.loss, torch.tensor(2.5, dtype=torch.float64), rtol=1e-3, atol=0)


def test_pair_weights_known_value() -> None:
    # three sources, w_kl = lambda_k lambda_l / sum over pairs
    torch.manual_seed(0)
    lambdas = torch.tensor([0.5, 0.3, 0.2])
    b = torch.randn(9, 4, 1, 1)
    source = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    out = sinkhorn_alignment(b, source, lambdas, points="pooled")
    divergence = SamplesLoss("sinkhorn", p=2, blur=0.05, scaling=0.5, backend="tensorized")
    clouds = [b[3 * k : 3 * k + 3].flatten(1) for k in range(3)]
    pairs, weights = [(0, 1), (0, 2), (1, 2)], torch.tensor([0.15, 0.10, 0.06]) / 0.31
    expected = sum(
        w * divergence(clouds[k], clouds[m]) for w, (k, m) in zip(weights, pairs, strict=True)
    )
    assert out.num_pairs == 3 and out.skipped_sources == []
    torch.testing.assert_close(out.loss, expected)


def test_absent_sources_skipped_and_single_source_zero() -> None:
    b = torch.randn(4, 3, 2, 2, requires_grad=True)
    lambdas = torch.full((4,), 0.25)
    out = sinkhorn_alignment(b, torch.tensor([0, 0, 2, 2]), lambdas)
    assert (out.num_pairs, out.skipped_sources) == (1, [1, 3])
    single = sinkhorn_alignment(b, torch.tensor([1, 1, 1, 1]), lambdas)
    assert isinstance(single, AlignmentResult)
    assert (single.num_pairs, single.skipped_sources) == (0, [0, 2, 3])
    assert single.loss.item() == 0.0 and single.loss.requires_grad
    single.loss.backward()
    torch.testing.assert_close(b.grad, torch.zeros_like(b))


def test_token_subsampling_seeded() -> None:
    b = torch.randn(4, 3, 8, 8)
    source = torch.tensor([0, 0, 1, 1])

    def run(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        align = SinkhornAlignment(num_points=16, generator=generator, backend="tensorized")
        return align(b, source, LAMBDAS2)

    torch.testing.assert_close(run(0), run(0))
    assert run(0).item() != run(1).item()


def test_normalize_is_scale_invariant() -> None:
    torch.manual_seed(0)
    b = torch.randn(6, 4, 2, 2)
    source = torch.tensor([0, 0, 0, 1, 1, 1])
    align = SinkhornAlignment(normalize=True, backend="tensorized")
    torch.testing.assert_close(align(b, source, LAMBDAS2), align(10 * b, source, LAMBDAS2))


def test_module_equals_function_and_half_precision() -> None:
    torch.manual_seed(0)
    b = torch.randn(6, 4, 2, 2)
    source = torch.tensor([0, 1, 0, 1, 0, 1])
    module = SinkhornAlignment(points="pooled", blur=0.1, scaling=0.7, backend="tensorized")
    expected = sinkhorn_alignment(b, source, LAMBDAS2, points="pooled", blur=0.1, scaling=0.7)
    torch.testing.assert_close(module(b, source, LAMBDAS2), expected.loss)
    half = module(b.bfloat16(), source, LAMBDAS2)
    assert half.dtype == torch.float32 and torch.isfinite(half)


def test_auto_backend_on_cpu_is_tensorized_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert resolve_backend("auto", torch.device("cpu")) == "tensorized"
    align = SinkhornAlignment(points="pooled")
    b, source = torch.randn(4, 3, 1, 1), torch.tensor([0, 0, 1, 1])
    with caplog.at_level(logging.INFO, logger="baryir.losses.sinkhorn"):
        align(b, source, LAMBDAS2)
        align(b, source, LAMBDAS2)
    messages = [r.getMessage() for r in caplog.records if "backend" in r.getMessage()]
    assert len(messages) == 1 and "tensorized" in messages[0]


def _geomloss_alignment(b: torch.Tensor, source: torch.Tensor, lambdas: torch.Tensor, **kw):
    """The alignment written out with one GeomLoss call per present pair (the definition)."""
    divergence = SamplesLoss("sinkhorn", debias=True, backend="tensorized", **kw)
    pooled = b.mean(dim=(2, 3))
    present = sorted(set(source.tolist()))
    pairs = [(k, m) for i, k in enumerate(present) for m in present[i + 1 :]]
    weights = torch.stack([lambdas[k] * lambdas[m] for k, m in pairs])
    values = torch.stack([divergence(pooled[source == k], pooled[source == m]) for k, m in pairs])
    return (weights * values).sum() / weights.sum()


def _float32_divergence_tolerance(
    pooled: torch.Tensor, p: int = 2, blur: float = 0.05, scaling: float = 0.5
) -> float:
    """A bound on how far two float32 evaluations of one debiased Sinkhorn divergence (and of a
    weighted mean of them) may differ, from the size of the computation, not from one machine.

    * Cost: both sides expand ``|x - y|^2 = |x|^2 + |y|^2 - 2 x.y`` over ``D`` channels, each
      rounding it within ``(D + 2) u (|x|^2 + |y|^2)`` (``u`` float32's unit round-off), in an
      order of the library's and the CPU's choosing (the vector width differs between Intel and
      AMD). p=2 halves it; p=1 takes the root, and near a zero distance (the debias terms' own
      pairs) the root of a rounding is as large as the root of the bound.
    * Each entropic OT term is 1-Lipschitz in the cost's sup norm and the debiased divergence
      has three terms with weights 1, 1/2, 1/2: twice the cost bound.
    * Each of the schedule's log-sum-exp iterations rounds the potentials (of the size of the
      largest cost) once more.
    """
    u = torch.finfo(torch.float32).eps / 2
    squared = pooled.double().pow(2).sum(dim=1)
    spread = (pooled.max(dim=0).values - pooled.min(dim=0).values).double().norm().item()
    rounding = (pooled.shape[1] + 2) * u * 2 * squared.max().item()
    cost = rounding / 2 if p == 2 else math.sqrt(rounding)
    iterations = max(1.0, math.log(max(spread, blur) / blur) / math.log(1 / scaling)) + 2
    return 2 * cost + iterations * u * max(spread, blur) ** p / p


@pytest.mark.parametrize(
    ("source", "kwargs", "scale"),
    [
        ([0, 1, 2, 3, 0, 1, 2, 3], {}, 1.0),  # the quickstart's batch: 4 sources of 2
        ([0, 0, 0, 1, 1, 2, 2, 2], {"blur": 0.1, "scaling": 0.7}, 3.0),
        ([5, 0, 5, 2, 2, 0, 5, 0], {}, 0.02),  # sources 1, 3 and 4 absent, clouds under blur
        ([0, 1, 0, 1, 0, 1, 0, 1], {"p": 1}, 1.0),
        ([2, 1, 0, 2, 1, 0, 3, 3], {}, 40.0),  # a long schedule
    ],
)
def test_pooled_alignment_equals_geomloss(source: list[int], kwargs: dict, scale: float) -> None:
    # value and gradient equal to GeomLoss' debiased divergence pair by pair, float32 (its
    # epsilon schedule depends on each pair's diameter, read there with .item())
    generator = torch.Generator().manual_seed(len(kwargs))
    b = (scale * torch.randn(8, 16, 3, 3, generator=generator)).requires_grad_()
    source_t, lambdas = torch.tensor(source), torch.rand(6, generator=generator)
    expected = _geomloss_alignment(b, source_t, lambdas, **kwargs)
    (expected_grad,) = torch.autograd.grad(expected, b)
    value = pooled_alignment(b, source_t, lambdas, **kwargs)
    (grad,) = torch.autograd.grad(value, b)
    atol = _float32_divergence_tolerance(b.detach().mean(dim=(2, 3)), **kwargs)
    torch.testing.assert_close(value, expected, rtol=0, atol=atol)
    # in float64 the same pair agrees to 1e-12 (the test below): the bound is float32's alone
    # float32 rounding of the cost matrix (|x - y|^2 expanded; p=1 takes its root) differs
    # with the matrix's size (p=1: 2e-4 of the largest gradient entry; float64 agrees to 1e-10)
    atol = 5e-4 * expected_grad.abs().max().item()
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=atol)


def test_pooled_alignment_float64_equals_geomloss_and_normalize() -> None:
    generator = torch.Generator().manual_seed(3)
    b = torch.randn(12, 5, 2, 2, generator=generator, dtype=torch.float64)
    source, lambdas = torch.arange(12) % 3, torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    torch.testing.assert_close(
        pooled_alignment(b, source, lambdas),
        _geomloss_alignment(b, source, lambdas),
        rtol=1e-12,
        atol=0,
    )
    torch.testing.assert_close(
        pooled_alignment(b, source, lambdas, normalize=True),
        sinkhorn_alignment(b, source, lambdas, points="pooled", normalize=True).loss,
        rtol=1e-12,
        atol=0,
    )


def test_pooled_alignment_single_source_zero_attached() -> None:
    b = torch.randn(4, 3, 2, 2, requires_grad=True)
    loss = pooled_alignment(b, torch.tensor([1, 1, 1, 1]), torch.full((4,), 0.25))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    torch.testing.assert_close(b.grad, torch.zeros_like(b))


def test_pooled_alignment_cut_schedule_ends_at_blur() -> None:
    # a diameter beyond max_diameter skips the middle of the schedule, not its last temperature:
    # two Diracs (every point of a source equal) give |u - v|^2 / 2 at any schedule
    b = torch.zeros(4, 2, 1, 1, dtype=torch.float64)
    b[2:, 0] = 1000.0
    source = torch.tensor([0, 0, 1, 1])
    loss = pooled_alignment(b, source, LAMBDAS2.double(), max_diameter=10.0)
    torch.testing.assert_close(loss, torch.tensor(5e5, dtype=torch.float64))


def test_pooled_alignment_never_reads_the_device() -> None:
    # no host synchronisation (.item(), bool(tensor), ...) in the forward or the backward
    b = torch.randn(8, 16, 3, 3, requires_grad=True)
    align = SinkhornAlignment(points="pooled")
    align(b, torch.arange(8) % 4, torch.full((4,), 0.25))  # resolves and logs the backend
    with torch.autograd.profiler.profile() as prof:
        align(b, torch.arange(8) % 4, torch.full((4,), 0.25)).backward()
    names = [event.name for event in prof.function_events]
    assert "aten::_local_scalar_dense" not in names


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"points": "grid"}, "points"),
        ({"backend": "multiscale"}, "backend"),
        ({"p": 3}, "p must be"),
        ({"blur": 0.0}, "blur"),
    ],
)
def test_exception_constructor(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SinkhornAlignment(**kwargs)


def test_exception_inputs() -> None:
    with pytest.raises(ValueError, match=r"source values must lie in \[0, 2\)"):
        sinkhorn_alignment(torch.randn(2, 3, 1, 1), torch.tensor([0, 2]), LAMBDAS2)
    with pytest.raises(ValueError, match=r"\(B, C, h, w\)"):
        sinkhorn_alignment(torch.randn(2, 3), torch.tensor([0, 1]), LAMBDAS2)
