"""TV, Hellinger, chi2, Rényi and f-divergences against scipy, brute force and the classical
inequalities (Pinsker, Le Cam, the order of Rényi divergences)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from klviz import info

from .strategies import FAST, prob_pairs

BRUTE = {  # sum over outcomes of q f(p/q), written out per generator with q > 0
    "kl": lambda p, q: sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0),
    "reverse_kl": lambda p, q: sum(b * math.log(b / a) for a, b in zip(p, q)),
    "tv": lambda p, q: 0.5 * sum(abs(a - b) for a, b in zip(p, q)),
    "chi2": lambda p, q: sum((a - b) ** 2 / b for a, b in zip(p, q)),
    "squared_hellinger": lambda p, q: sum((math.sqrt(a) - math.sqrt(b)) ** 2 for a, b in zip(p, q)),
    "js": lambda p, q: jensenshannon(p, q) ** 2,
}


@FAST
@given(prob_pairs())
def test_named_generators_against_brute_force_and_scipy(pq):
    p, q = pq
    for name, brute in BRUTE.items():
        assert info.f_divergence(p, q, name) == pytest.approx(brute(p, q), rel=1e-9, abs=1e-12), name
    assert info.f_divergence(p, q, "kl") == pytest.approx(rel_entr(p, q).sum(), abs=1e-12)
    assert info.total_variation(p, q) == pytest.approx(BRUTE["tv"](p, q), abs=1e-15)
    assert info.chi2_divergence(p, q) == pytest.approx(BRUTE["chi2"](p, q), rel=1e-12)
    assert 2 * info.hellinger(p, q) ** 2 == pytest.approx(BRUTE["squared_hellinger"](p, q), abs=1e-12)
    assert info.f_divergence(p, q, "js") == pytest.approx(info.js_divergence(p, q), abs=1e-12)
    assert info.f_divergence(p, q, "reverse_kl") == pytest.approx(info.kl_divergence(q, p), abs=1e-12)


@FAST
@given(prob_pairs(allow_zero=True))
def test_callable_generator_equals_named(pq):
    p, q = pq
    got = info.f_divergence(p, q, lambda t: (t - 1.0) ** 2, slope_at_infinity=math.inf)
    assert got == pytest.approx(info.f_divergence(p, q, "chi2"), rel=1e-12)


@FAST
@given(prob_pairs(allow_zero=True))
def test_pinsker_le_cam_and_chi2_bounds(pq):
    p, q = pq
    tv, h, kl = info.total_variation(p, q), info.hellinger(p, q), info.kl_divergence(p, q)
    assert tv <= math.sqrt(kl / 2) + 1e-12                      # Pinsker, nats
    assert h**2 <= tv + 1e-12                                   # Le Cam, distance convention
    assert tv <= h * math.sqrt(2 - h**2) + 1e-12 <= math.sqrt(2) * h + 2e-12
    assert 0 <= h <= 1 + 1e-12 and 0 <= tv <= 1 + 1e-12
    assert kl <= math.log1p(info.chi2_divergence(p, q)) + 1e-12
    assert info.js_divergence(p, q) <= math.log(2) + 1e-12


@FAST
@given(prob_pairs(allow_zero=True), st.lists(st.floats(0.0, 8.0), min_size=2, max_size=6))
def test_renyi_is_nondecreasing_in_alpha(pq, alphas):
    p, q = pq
    values = [info.renyi_divergence(p, q, a) for a in sorted(alphas) + [math.inf]]
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:])), values
    assert values[0] >= -1e-12


@FAST
@given(prob_pairs(allow_zero=True))
def test_renyi_special_orders(pq):
    p, q = pq
    kl = info.kl_divergence(p, q)
    assert info.renyi_divergence(p, q, 1) == kl
    for eps in (1e-6, -1e-6):
        assert info.renyi_divergence(p, q, 1 + eps) == pytest.approx(kl, rel=1e-4, abs=1e-6)
    assert info.renyi_divergence(p, q, 2) == pytest.approx(math.log1p(info.chi2_divergence(p, q)), rel=1e-9)
    bc = 1 - info.hellinger(p, q) ** 2
    assert info.renyi_divergence(p, q, 0.5) == pytest.approx(-2 * math.log(bc), rel=1e-6, abs=1e-12)
    # brute force at a generic order and the two limits
    a = 0.7
    brute = math.log(sum(x**a * y ** (1 - a) for x, y in zip(p, q) if x > 0)) / (a - 1)
    assert info.renyi_divergence(p, q, a) == pytest.approx(brute, rel=1e-9, abs=1e-12)
    assert info.renyi_divergence(p, q, 0) == pytest.approx(-math.log(q[p > 0].sum()), abs=1e-12)
    assert info.renyi_divergence(p, q, math.inf) == pytest.approx(np.log(p[p > 0] / q[p > 0]).max())
    assert info.renyi_divergence(p, q, 3, base=2) == pytest.approx(info.renyi_divergence(p, q, 3) / math.log(2))


def test_zeros_follow_the_conventions():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.0, 0.5])
    assert info.chi2_divergence(p, q) == math.inf
    assert info.f_divergence(p, q, "kl") == math.inf
    assert info.f_divergence(p, q, "reverse_kl") == math.inf
    assert info.f_divergence(p, q, "tv") == pytest.approx(info.total_variation(p, q))
    assert info.f_divergence(p, q, "squared_hellinger") == pytest.approx(2 * info.hellinger(p, q) ** 2)
    assert info.f_divergence(p, q, "js") == pytest.approx(info.js_divergence(p, q))
    disjoint = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert info.total_variation(*disjoint) == 1.0 and info.hellinger(*disjoint) == 1.0
    assert info.renyi_divergence(*disjoint, 0.5) == math.inf
    assert info.renyi_divergence(*disjoint, 0) == math.inf
    assert info.renyi_divergence(*disjoint, 2) == math.inf


def test_torch_batches_and_autograd():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), size=4), rng.dirichlet(np.ones(5), size=4)
    pt = torch.tensor(p, requires_grad=True)
    for fn in (info.total_variation, info.hellinger, info.chi2_divergence,
               lambda a, b: info.renyi_divergence(a, b, 0.5), lambda a, b: info.f_divergence(a, b, "js")):
        out = fn(pt, torch.tensor(q))
        assert out.shape == (4,)
        np.testing.assert_allclose(out.detach().numpy(), fn(p, q), rtol=1e-12)
        (g,) = torch.autograd.grad(out.sum(), pt)
        assert torch.isfinite(g).all()
    np.testing.assert_allclose(info.total_variation(p.T, q.T, axis=0), info.total_variation(p, q))


@pytest.mark.parametrize("call, error, match", [
    (lambda: info.renyi_divergence([0.5, 0.5], [0.5, 0.5], -1), ValueError, "alpha must lie in"),
    (lambda: info.renyi_divergence([0.5, 0.5], [0.5, 0.5], math.nan), ValueError, "alpha"),
    (lambda: info.renyi_divergence([0.5, 0.5], [0.5, 0.5], "2"), TypeError, "alpha"),
    (lambda: info.f_divergence([0.5, 0.5], [0.5, 0.5], "hellinger"), ValueError, "f must be one of"),
    (lambda: info.f_divergence([0.5, 0.5], [0.5, 0.5], 3), TypeError, "f must be a generator name"),
    (lambda: info.f_divergence([0.5, 0.5], [1.0, 0.0], lambda t: t * 0), ValueError, "slope_at_infinity"),
    (lambda: info.total_variation([0.5, 0.6], [0.5, 0.5]), ValueError, "p must sum to 1"),
    (lambda: info.hellinger([0.5, 0.5], [1.5, -0.5]), ValueError, "q has a negative entry"),
    (lambda: info.chi2_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), ValueError, "do not broadcast"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
