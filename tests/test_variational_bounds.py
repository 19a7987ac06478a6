"""The Donsker-Varadhan bound: exact at the optimal critic, a lower bound elsewhere, and the
small estimator close to the exact KL of two Gaussians."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz import info
from klviz import variational_bounds as vb


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.lists(st.floats(1e-3, 1), min_size=n, max_size=n),
    st.lists(st.floats(1e-3, 1), min_size=n, max_size=n),
    st.lists(st.floats(-5, 5), min_size=n, max_size=n))))
def test_exact_bound_is_below_kl_and_tight_at_the_log_ratio(args):
    p, q, t = (np.array(a) for a in args)
    p, q = p / p.sum(), q / q.sum()
    kl = info.kl_divergence(p, q)
    assert vb.dv_bound_exact(p, q, t) <= kl + 1e-12
    assert vb.dv_bound_exact(p, q, np.log(p / q) + 1.7) == pytest.approx(kl, abs=1e-12)


def test_sample_bound_numpy_and_torch_agree():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=70)
    expected = a.mean() - math.log(np.exp(b).mean())
    assert vb.dv_bound(a, b) == pytest.approx(expected, abs=1e-12)
    assert vb.dv_bound(torch.tensor(a), torch.tensor(b)).item() == pytest.approx(expected, abs=1e-12)


def test_sample_bound_with_the_optimal_critic_approaches_the_kl():
    # p = N(1, 1), q = N(0, 1): log p/q = x - 1/2, KL = 1/2
    rng = np.random.default_rng(1)
    xp, xq = rng.normal(1.0, 1.0, 200_000), rng.normal(0.0, 1.0, 200_000)
    assert vb.dv_bound(xp - 0.5, xq - 0.5) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("mu", [0.5, 1.5])
def test_estimator_is_close_to_the_exact_gaussian_kl(mu):
    rng = np.random.default_rng(2)
    res = vb.dv_estimate(rng.normal(mu, 1.0, 2000), rng.normal(0.0, 1.0, 2000), seed=0, steps=300)
    assert res.estimate == pytest.approx(mu**2 / 2, abs=0.1 + 0.1 * mu**2 / 2)
    assert len(res.history) == 30 and res.steps[-1] == 300


@pytest.mark.parametrize("mu", [0.5, 1.0, 2.0])
def test_quadratic_family_reaches_the_gaussian_kl(mu):
    rng = np.random.default_rng(5)
    bound, (a, b) = vb.dv_quadratic(rng.normal(mu, 1.0, 20000), rng.normal(0.0, 1.0, 20000))
    assert bound == pytest.approx(mu**2 / 2, abs=0.05 + 0.05 * mu**2)
    assert a == pytest.approx(mu, abs=0.1 + 0.1 * mu) and abs(b) < 0.05 + 0.05 * mu


def test_quadratic_bound_is_the_maximum_over_its_family():
    rng = np.random.default_rng(6)
    xp, xq = rng.normal(1.0, 1.0, 500), rng.normal(0.0, 1.0, 500)
    bound, (a, b) = vb.dv_quadratic(xp, xq)
    assert bound == pytest.approx(vb.dv_bound(a * xp + b * xp**2, a * xq + b * xq**2), abs=1e-9)
    for da, db in ((0.05, 0), (-0.05, 0), (0, 0.02), (0, -0.02)):
        t = lambda x: (a + da) * x + (b + db) * x**2  # noqa: E731
        assert vb.dv_bound(t(xp), t(xq)) <= bound + 1e-12


def test_estimator_restores_the_thread_count():
    before = torch.get_num_threads()
    vb.dv_estimate(np.zeros(8), np.ones(8), steps=2)
    assert torch.get_num_threads() == before


def test_estimator_is_seeded():
    rng = np.random.default_rng(3)
    xp, xq = rng.normal(1.0, 1.0, 200), rng.normal(0.0, 1.0, 200)
    a = vb.dv_estimate(xp, xq, seed=4, steps=20)
    b = vb.dv_estimate(xp, xq, seed=4, steps=20)
    assert a.estimate == b.estimate


@pytest.mark.parametrize("call, error, match", [
    (lambda: vb.dv_bound([1.0, math.inf], [0.0]), ValueError, "t_p must be finite"),
    (lambda: vb.dv_bound([[1.0]], [0.0]), ValueError, "1-D"),
    (lambda: vb.dv_bound_exact([0.5, 0.5], [0.5, 0.5], [0.0]), ValueError, "same length"),
    (lambda: vb.dv_bound_exact([0.5, 0.6], [0.5, 0.5], [0.0, 0.0]), ValueError, "p must sum to 1"),
    (lambda: vb.dv_estimate([0.0, 1.0], [0.0, 1.0, 2.0, 3.0]), ValueError, "at least 4"),
    (lambda: vb.dv_estimate(np.zeros((8, 2)), np.zeros((8, 1))), ValueError, "same dimension"),
    (lambda: vb.dv_estimate(np.zeros(8), np.zeros(8), hidden=0), ValueError, "hidden"),
    (lambda: vb.dv_estimate(np.zeros(8), np.zeros(8), lr="x"), TypeError, "lr"),
    (lambda: vb.dv_estimate(np.zeros(8), np.zeros(8), weight_decay=-1), ValueError, "weight_decay"),
    (lambda: vb.dv_quadratic(np.zeros((4, 2)), np.zeros(4)), ValueError, "x_p must be a 1-D"),
    (lambda: vb.dv_quadratic(np.zeros(4), [0.0, math.nan]), ValueError, "x_q"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
