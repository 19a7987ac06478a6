"""Tests of klviz.estimators: the k1/k2/k3 Monte Carlo KL estimators (Schulman 2020)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from klviz import estimators as E
from klviz import info

finite = st.floats(min_value=-30, max_value=30, allow_nan=False)


def _probs(rng, n):
    p = rng.dirichlet(np.ones(n))
    return p / p.sum()


# --------------------------------------------------------------------------- the formulas
def test_estimators_match_their_definitions():
    lr = np.array([-2.0, -0.3, 0.0, 0.4, 1.5])
    r = np.exp(lr)
    np.testing.assert_allclose(E.k1(lr), -lr)
    np.testing.assert_allclose(E.k2(lr), 0.5 * lr**2)
    np.testing.assert_allclose(E.k3(lr), (r - 1) - lr, rtol=1e-12)


@given(arrays(np.float64, st.integers(1, 50), elements=finite))
@settings(max_examples=60, deadline=None)
def test_k2_and_k3_are_non_negative(lr):
    assert np.all(E.k2(lr) >= 0)
    assert np.all(E.k3(lr) >= 0)


@given(st.floats(min_value=-1e-6, max_value=1e-6, allow_nan=False))
def test_k3_accurate_near_r_equal_1(x):
    # (r - 1) - log r = x^2/2 + x^3/6 + ...; the naive exp(x) - 1 - x loses every digit here
    assert E.k3(np.array(x)) == pytest.approx(x * x / 2 + x**3 / 6, rel=1e-6, abs=1e-30)


def test_k3_infinite_where_reference_is_zero():
    assert np.isposinf(E.k3(np.array(-np.inf)))
    assert np.isposinf(E.k1(np.array(-np.inf)))


def test_torch_in_torch_out_and_autograd():
    lr = torch.tensor([-0.5, 0.2, 1.0], dtype=torch.float64, requires_grad=True)
    out = E.k3(lr).sum()
    out.backward()
    # d/dx (e^x - 1 - x) = e^x - 1
    torch.testing.assert_close(lr.grad, lr.detach().exp() - 1)
    assert isinstance(E.k2(lr), torch.Tensor)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="log_ratio"):
        E.k1(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="estimator"):
        E.kl_estimate(np.zeros(3), "k4")
    with pytest.raises(ValueError, match="n must"):
        E.sample_log_ratio_gaussian(0.0, 1.0, n=0)
    with pytest.raises(ValueError, match="sigma"):
        E.sample_log_ratio_gaussian(0.0, -1.0, n=3)
    with pytest.raises(ValueError, match="q is 0"):
        E.exact_estimator_moments([0.5, 0.5], [1.0, 0.0])


# --------------------------------------------------------------------------- bias, exactly
@given(st.integers(2, 12), st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_k1_k3_unbiased_k2_biased_exactly(n, seed):
    rng = np.random.default_rng(seed)
    p, q = _probs(rng, n), _probs(rng, n)
    kl = float(info.kl_divergence(p, q))
    m = E.exact_estimator_moments(p, q)
    assert m["k1"][0] == pytest.approx(kl, rel=1e-9, abs=1e-12)
    assert m["k3"][0] == pytest.approx(kl, rel=1e-9, abs=1e-12)
    # E[k2] = 1/2 E[(log r)^2] >= 1/2 (E[log r])^2 = KL^2 / 2 (Jensen); brute force check
    lr = np.log(q) - np.log(p)
    assert m["k2"][0] == pytest.approx(0.5 * np.sum(p * lr**2), rel=1e-12)
    assert m["k2"][0] >= 0.5 * kl**2 - 1e-12


def test_exact_moments_agree_with_monte_carlo():
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.3, 0.5])
    exact = E.exact_estimator_moments(p, q)
    lr = E.sample_log_ratio_categorical(p, q, 200_000, rng=1)
    stats = E.estimator_stats(lr, info.kl_divergence(p, q))
    for name, (mean, var) in exact.items():
        s = stats[name]
        assert abs(s.mean - mean) < 5 * math.sqrt(var / s.n)
        assert s.std**2 == pytest.approx(var, rel=0.03)


def test_gaussian_table_reproduces_known_behaviour():
    rows = E.gaussian_estimator_table([0.1, 1.0], n=200_000, rng=0)
    small, large = rows
    assert small["true_kl"] == pytest.approx(0.005)
    # Schulman (2020): at KL = 0.005, k1's relative std is about 20, k2/k3's about 1.4
    assert small["k1_rel_std"] == pytest.approx(20, rel=0.05)
    assert small["k3_rel_std"] == pytest.approx(math.sqrt(2), rel=0.05)
    # at KL = 0.5 the bias of k2 is about 25 % (its mean is 0.5 + 0.125 exactly? no: E[(log r)^2]/2 = (mu^2 + mu^4/4)/2)
    mu = 1.0
    assert large["k2_rel_bias"] == pytest.approx(((mu**2 + mu**4 / 4) / 2 - 0.5) / 0.5, abs=0.02)
    for row in rows:
        assert abs(row["k1_rel_bias"]) < 0.05 and abs(row["k3_rel_bias"]) < 0.05


def test_gaussian_log_ratio_matches_scipy():
    from scipy import stats

    x_rng = np.random.default_rng(3)
    lr = E.sample_log_ratio_gaussian(0.7, 1.3, -0.2, 0.8, 5, rng=x_rng)
    x = np.random.default_rng(3).normal(0.7, 1.3, size=5)
    np.testing.assert_allclose(lr, stats.norm(-0.2, 0.8).logpdf(x) - stats.norm(0.7, 1.3).logpdf(x))


# --------------------------------------------------------------------------- per-token KL
def test_per_token_kl_exact_and_estimates():
    torch.manual_seed(0)
    pol = torch.randn(2, 4, 7, dtype=torch.float64)
    ref = torch.randn(2, 4, 7, dtype=torch.float64)
    exact = E.per_token_kl(pol, ref)
    p, q = pol.softmax(-1), ref.softmax(-1)
    torch.testing.assert_close(exact, (p * (p.log() - q.log())).sum(-1))
    tokens = torch.distributions.Categorical(logits=pol).sample()
    est = E.per_token_kl(pol, ref, tokens, estimator="k1")
    brute = torch.stack(
        [
            torch.stack([p[b, t, tokens[b, t]].log() - q[b, t, tokens[b, t]].log() for t in range(4)])
            for b in range(2)
        ]
    )
    torch.testing.assert_close(est, brute)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    masked = E.per_token_kl(pol, ref, tokens, estimator="k3", mask=mask)
    assert torch.all(masked[0, 2:] == 0) and torch.all(masked >= 0)


def test_per_token_kl_average_of_samples_converges():
    torch.manual_seed(1)
    pol = torch.randn(1, 1, 5, dtype=torch.float64).expand(1, 20_000, 5)
    ref = torch.randn(1, 1, 5, dtype=torch.float64).expand(1, 20_000, 5)
    tokens = torch.distributions.Categorical(logits=pol).sample()
    exact = E.per_token_kl(pol[:, :1], ref[:, :1]).item()
    for name in ("k1", "k3"):
        assert E.per_token_kl(pol, ref, tokens, estimator=name).mean().item() == pytest.approx(exact, rel=0.1)


def test_per_token_kl_bad_shapes():
    with pytest.raises(ValueError, match=r"\(B, N, V\)"):
        E.per_token_kl(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="tokens"):
        E.per_token_kl(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), estimator="k3")
    with pytest.raises(TypeError):
        E.per_token_kl(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)))


def test_per_token_kl_low_precision_and_extreme_logits():
    torch.manual_seed(2)
    pol = torch.randn(2, 3, 8) * 1e4  # saturated softmax: log space must keep it finite
    ref = torch.randn(2, 3, 8) * 1e4
    tokens = torch.distributions.Categorical(logits=pol).sample()
    for dtype in (torch.float16, torch.bfloat16):
        for name in ("exact", "k1", "k2", "k3"):
            out = E.per_token_kl(pol.to(dtype), ref.to(dtype), tokens, estimator=name)
            assert out.dtype == torch.float32
            assert not torch.isnan(out).any()
    exact = E.per_token_kl(pol, ref)
    assert torch.isfinite(exact).all() and (exact >= 0).all()


# --------------------------------------------------------------------------- gradients
def _autograd_kls(theta, ref):
    """Gradients of the exact KL(pi||ref) and KL(ref||pi) with respect to the logits theta."""
    out = []
    for reverse in (True, False):
        t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        lp, lq = t.log_softmax(-1), torch.tensor(ref, dtype=torch.float64).log_softmax(-1)
        kl = (lp.exp() * (lp - lq)).sum() if reverse else (lq.exp() * (lq - lp)).sum()
        out.append(torch.autograd.grad(kl, t)[0].numpy())
    return out


def _autograd_expectation(theta, ref, name, detach_weights):
    """Autograd of sum_y pi(y) k(l(y)): with pi detached only the pathwise part is left."""
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    lp, lq = t.log_softmax(-1), torch.tensor(ref, dtype=torch.float64).log_softmax(-1)
    w = lp.exp().detach() if detach_weights else lp.exp()
    return torch.autograd.grad((w * E.ESTIMATORS[name](lq - lp)).sum(), t)[0].numpy()


@given(st.integers(2, 9), st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_pathwise_gradients_are_zero_reverse_and_forward_kl(c, seed):
    rng = np.random.default_rng(seed)
    theta, ref = 2 * rng.normal(size=c), 2 * rng.normal(size=c)
    g_rev, g_fwd = _autograd_kls(theta, ref)
    np.testing.assert_allclose(E.expected_gradient(theta, ref, "k1"), 0, atol=1e-15)
    np.testing.assert_allclose(E.expected_gradient(theta, ref, "k2"), g_rev, atol=1e-12)
    np.testing.assert_allclose(E.expected_gradient(theta, ref, "k3"), g_fwd, atol=1e-12)
    p, q = info.softmax(theta), info.softmax(ref)
    np.testing.assert_allclose(g_fwd, p - q, atol=1e-12)
    # the score-function part of k1 (k1 in the reward) is the reverse KL's gradient
    np.testing.assert_allclose(E.expected_gradient(theta, ref, "k1", term="score"), g_rev, atol=1e-12)


@pytest.mark.parametrize("name", ["k1", "k2", "k3"])
def test_gradient_terms_match_autograd_of_the_exact_expectation(name):
    rng = np.random.default_rng(7)
    theta, ref = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    for row in range(3):
        path = _autograd_expectation(theta[row], ref[row], name, True)
        total = _autograd_expectation(theta[row], ref[row], name, False)
        got = {t: E.expected_gradient(theta, ref, name, term=t)[row] for t in E.GRADIENT_TERMS}
        np.testing.assert_allclose(got["pathwise"], path, atol=1e-12)
        np.testing.assert_allclose(got["total"], total, atol=1e-12)
        np.testing.assert_allclose(got["score"], total - path, atol=1e-12)


def test_pathwise_gradient_is_the_mean_of_autograd_on_samples():
    # what a loss term on sampled tokens gives: autograd of the sample mean, y fixed
    torch.manual_seed(0)
    theta = torch.tensor([0.5, -0.3, 1.2, 0.0], dtype=torch.float64, requires_grad=True)
    ref = torch.tensor([0.1, 0.4, -0.6, 0.2], dtype=torch.float64)
    y = torch.distributions.Categorical(logits=theta.detach()).sample((200_000,))
    lr = ref.log_softmax(-1)[y] - theta.log_softmax(-1)[y]
    for name in ("k1", "k2", "k3"):
        mc = torch.autograd.grad(E.ESTIMATORS[name](lr).mean(), theta, retain_graph=True)[0]
        exact = E.expected_gradient(theta.detach(), ref, name)
        # per-sample gradients are below 3 in size here: 5 standard errors < 0.035
        np.testing.assert_allclose(mc.numpy(), exact, atol=0.035)


def test_expected_gradient_bad_input():
    with pytest.raises(ValueError, match="term"):
        E.expected_gradient([0.0, 1.0], [0.0, 0.0], "k3", term="both")
    with pytest.raises(ValueError, match="equal shapes"):
        E.expected_gradient([0.0, 1.0], [0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="ref_logits"):
        E.expected_gradient([0.0, 1.0], [0.0, np.nan])
    with pytest.raises(ValueError, match="estimator"):
        E.expected_gradient([0.0, 1.0], [0.0, 0.0], "k4")
