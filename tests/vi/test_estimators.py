"""Reparameterisation and score-function gradients: unbiased against autograd of the exact
expectation; the pathwise one has the smaller variance on the chapter's example."""

from __future__ import annotations

import pytest
import torch

from klviz.vi import estimator_stats, reparam_gradients, score_gradients

N = 200_000


def _exact_gradient(expectation, mu, sigma):
    m = torch.tensor(mu, dtype=torch.float64, requires_grad=True)
    s = torch.tensor(sigma, dtype=torch.float64, requires_grad=True)
    return torch.stack(torch.autograd.grad(expectation(m, s), (m, s)))


CASES = [
    # f, E_{N(mu, s^2)}[f] in closed form
    (lambda z: (z - 1.0) ** 2, lambda m, s: (m - 1.0) ** 2 + s**2),
    (lambda z: torch.exp(0.5 * z), lambda m, s: torch.exp(0.5 * m + s**2 / 8)),
    (lambda z: torch.sin(z), lambda m, s: torch.sin(m) * torch.exp(-s**2 / 2)),
]


@pytest.mark.parametrize("f, expectation", CASES)
@pytest.mark.parametrize("estimator", [reparam_gradients, score_gradients])
def test_unbiased_against_autograd_of_the_exact_expectation(f, expectation, estimator):
    mu, sigma = 0.3, 0.7
    stats = estimator_stats(estimator(f, mu, sigma, N, seed=1))
    exact = _exact_gradient(expectation, mu, sigma)
    for i in range(2):
        assert abs(stats["mean"][i] - float(exact[i])) < 4.5 * stats["se"][i]


def test_baseline_keeps_the_mean_and_cuts_the_variance():
    f = lambda z: (z - 1.0) ** 2 + 10.0  # noqa: E731 - a large offset the baseline removes
    plain = estimator_stats(score_gradients(f, 0.3, 0.7, N, seed=2))
    base = estimator_stats(score_gradients(f, 0.3, 0.7, N, seed=2, baseline=10.0))
    assert all(b < p / 5 for b, p in zip(base["var"], plain["var"]))
    exact = _exact_gradient(CASES[0][1], 0.3, 0.7)
    assert abs(base["mean"][0] - float(exact[0])) < 4.5 * base["se"][0]


def test_reparameterisation_has_lower_variance_here():
    f = CASES[0][0]
    r = estimator_stats(reparam_gradients(f, 0.5, 0.8, N))
    s = estimator_stats(score_gradients(f, 0.5, 0.8, N))
    assert r["var"][0] < s["var"][0] and r["var"][1] < s["var"][1]


def test_same_seed_same_draws():
    f = CASES[1][0]
    assert torch.equal(reparam_gradients(f, 0.0, 1.0, 10, seed=5), reparam_gradients(f, 0.0, 1.0, 10, seed=5))


@pytest.mark.parametrize("kw, err, match", [
    ({"sigma": 0.0}, ValueError, "sigma"), ({"sigma": -1.0}, ValueError, "sigma"),
    ({"n": 0}, ValueError, "n"), ({"mu": float("nan")}, ValueError, "mu"), ({"mu": "a"}, TypeError, "mu"),
])
def test_bad_input(kw, err, match):
    args = {"mu": 0.0, "sigma": 1.0, "n": 10, **kw}
    for est in (reparam_gradients, score_gradients):
        with pytest.raises(err, match=match):
            est(CASES[0][0], args["mu"], args["sigma"], args["n"])


def test_stats_need_two_samples():
    with pytest.raises(ValueError, match="at least 2"):
        estimator_stats(torch.zeros(1, 2))
    with pytest.raises(TypeError, match="grads"):
        estimator_stats([[0.0, 1.0]])
