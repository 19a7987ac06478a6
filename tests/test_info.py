"""Tests of klviz.info against independent computations (scipy, torch, Monte Carlo, quadrature)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats
from scipy.spatial.distance import jensenshannon

from klviz import info

SEED = 0
LN2 = math.log(2.0)


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(SEED)
    torch.manual_seed(SEED)


def rng_probs(shape, rng, *, zeros=False):
    x = rng.gamma(0.5, size=shape)
    if zeros:
        x[..., 0] = 0.0
    return x / x.sum(axis=-1, keepdims=True)


# hypothesis: probability vectors of length 2..8 with strictly positive entries (and, when
# allowed, exact zeros)
def prob_vectors(n_min=2, n_max=8, allow_zero=False):
    lo = 0.0 if allow_zero else 1e-3
    return st.integers(n_min, n_max).flatmap(
        lambda n: st.lists(
            st.floats(lo, 1.0, allow_nan=False, allow_infinity=False), min_size=n, max_size=n
        )
        .filter(lambda xs: sum(xs) > 1e-3)
        .map(lambda xs: np.array(xs) / np.sum(xs))
    )


def prob_pairs(allow_zero=False):
    return st.integers(2, 8).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(1e-3 if not allow_zero else 0.0, 1.0), min_size=n, max_size=n)
            .filter(lambda xs: sum(xs) > 1e-3),
            st.lists(st.floats(1e-3, 1.0), min_size=n, max_size=n),
        ).map(lambda t: (np.array(t[0]) / np.sum(t[0]), np.array(t[1]) / np.sum(t[1])))
    )


FAST = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------- vs scipy / torch
class TestAgainstScipyAndTorch:
    def setup_method(self):
        rng = np.random.default_rng(1)
        self.p = rng_probs((5, 7), rng)
        self.q = rng_probs((5, 7), rng)

    def test_entropy(self):
        np.testing.assert_allclose(info.entropy(self.p), stats.entropy(self.p, axis=-1), rtol=1e-12)
        np.testing.assert_allclose(info.entropy(self.p), special.entr(self.p).sum(-1), rtol=1e-12)
        np.testing.assert_allclose(
            info.entropy(self.p, base=2), stats.entropy(self.p, base=2, axis=-1), rtol=1e-12
        )

    def test_kl(self):
        np.testing.assert_allclose(
            info.kl_divergence(self.p, self.q), special.rel_entr(self.p, self.q).sum(-1), rtol=1e-12
        )
        np.testing.assert_allclose(
            info.kl_divergence(self.p, self.q), stats.entropy(self.p, self.q, axis=-1), rtol=1e-12
        )
        # torch's kl_div takes log q as input and p as target
        ref = F.kl_div(
            torch.tensor(np.log(self.q)), torch.tensor(self.p), reduction="none"
        ).sum(-1)
        np.testing.assert_allclose(info.kl_divergence(self.p, self.q), ref.numpy(), rtol=1e-12)

    def test_cross_entropy(self):
        ref = -(special.xlogy(self.p, self.q)).sum(-1)
        np.testing.assert_allclose(info.cross_entropy(self.p, self.q), ref, rtol=1e-12)
        # torch's soft-label cross_entropy takes logits; log q are valid logits for q
        ref_t = F.cross_entropy(
            torch.tensor(np.log(self.q)), torch.tensor(self.p), reduction="none"
        )
        np.testing.assert_allclose(info.cross_entropy(self.p, self.q), ref_t.numpy(), rtol=1e-12)

    def test_js(self):
        ref = jensenshannon(self.p, self.q, axis=-1) ** 2
        np.testing.assert_allclose(info.js_divergence(self.p, self.q), ref, rtol=1e-10)
        ref2 = jensenshannon(self.p, self.q, axis=-1, base=2) ** 2
        np.testing.assert_allclose(info.js_divergence(self.p, self.q, base=2), ref2, rtol=1e-10)

    def test_softmax(self):
        z = np.random.default_rng(2).normal(size=(4, 6)) * 3
        np.testing.assert_allclose(info.softmax(z, temperature=2.0), special.softmax(z / 2, axis=-1))
        np.testing.assert_allclose(info.log_softmax(z, axis=0), special.log_softmax(z, axis=0))
        zt = torch.tensor(z)
        np.testing.assert_allclose(
            info.softmax(zt, temperature=0.5).numpy(), torch.softmax(zt / 0.5, -1).numpy()
        )

    def test_axis(self):
        # the same numbers whichever axis holds the distribution
        np.testing.assert_allclose(
            info.kl_divergence(self.p.T, self.q.T, axis=0), info.kl_divergence(self.p, self.q)
        )
        p3 = np.stack([self.p, self.q])  # (2, 5, 7)
        np.testing.assert_allclose(
            info.entropy(np.moveaxis(p3, -1, 1), axis=1), info.entropy(p3), rtol=1e-12
        )

    def test_broadcasting(self):
        q0 = self.q[0]
        np.testing.assert_allclose(
            info.kl_divergence(self.p, q0), special.rel_entr(self.p, q0[None]).sum(-1)
        )


# ----------------------------------------------------------------------------- numpy vs torch
PROB_FNS = [info.cross_entropy, info.kl_divergence, info.js_divergence]
LOGIT_FNS = [
    info.cross_entropy_from_logits,
    info.kl_divergence_from_logits,
    info.js_divergence_from_logits,
]


@pytest.mark.parametrize("fn", PROB_FNS)
def test_numpy_torch_agree_probs(fn):
    rng = np.random.default_rng(3)
    p, q = rng_probs((4, 5), rng), rng_probs((4, 5), rng)
    out_np = fn(p, q)
    out_t = fn(torch.tensor(p), torch.tensor(q))
    assert isinstance(out_np, np.ndarray) and isinstance(out_t, torch.Tensor)
    np.testing.assert_allclose(out_t.numpy(), out_np, rtol=1e-12)
    # mixed kinds give a tensor; a list gives numpy
    assert isinstance(fn(p, torch.tensor(q)), torch.Tensor)
    assert isinstance(fn(p.tolist(), q.tolist()), np.ndarray)
    np.testing.assert_allclose(fn(p.tolist(), q.tolist()), out_np)


@pytest.mark.parametrize("fn", LOGIT_FNS)
@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_numpy_torch_agree_logits(fn, temperature):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(4, 5)) * 2, rng.normal(size=(4, 5)) * 2
    out_np = fn(a, b, temperature=temperature)
    out_t = fn(torch.tensor(a), torch.tensor(b), temperature=temperature)
    np.testing.assert_allclose(out_t.numpy(), out_np, rtol=1e-12)
    # and the log-space result equals the probability-space one
    prob_fn = PROB_FNS[LOGIT_FNS.index(fn)]
    pa, pb = info.softmax(a, temperature=temperature), info.softmax(b, temperature=temperature)
    np.testing.assert_allclose(out_np, prob_fn(pa, pb), rtol=1e-10)


def test_entropy_from_logits_matches():
    z = np.random.default_rng(5).normal(size=(3, 6))
    np.testing.assert_allclose(info.entropy_from_logits(z), info.entropy(info.softmax(z)))
    np.testing.assert_allclose(
        info.entropy_from_logits(torch.tensor(z), temperature=2.0, base=2).numpy(),
        info.entropy(info.softmax(z, temperature=2.0), base=2),
    )


def test_entropy_numpy_torch_and_grad():
    p = rng_probs((3, 4), np.random.default_rng(6))
    pt = torch.tensor(p, requires_grad=True)
    h = info.entropy(pt)
    np.testing.assert_allclose(h.detach().numpy(), info.entropy(p))
    assert h.requires_grad
    h.sum().backward()
    np.testing.assert_allclose(pt.grad.numpy(), -(np.log(p) + 1))


# ----------------------------------------------------------------------------- autograd
@pytest.mark.parametrize("fn", LOGIT_FNS)
def test_gradcheck_logits(fn):
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: fn(x, y, temperature=1.7), (a, b))


def test_gradcheck_entropy_from_logits():
    z = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: info.entropy_from_logits(x, temperature=0.8), (z,))


@pytest.mark.parametrize("fn", PROB_FNS)
def test_gradcheck_probs(fn):
    # finite differences leave the simplex, so validation is switched off here
    p = torch.tensor(rng_probs((2, 4), np.random.default_rng(7)), requires_grad=True)
    q = torch.tensor(rng_probs((2, 4), np.random.default_rng(8)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: fn(x, y, validate=False), (p, q))


def test_kd_gradient_closed_form():
    # d/ds KL(softmax(t/T) || softmax(s/T)) = (q - p) / T  (Hinton et al. 2015)
    t = torch.randn(2, 5, dtype=torch.float64)
    s = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    T = 4.0
    info.kl_divergence_from_logits(t, s, temperature=T).sum().backward()
    expected = (torch.softmax(s / T, -1) - torch.softmax(t / T, -1)) / T
    torch.testing.assert_close(s.grad, expected.detach())


def test_grad_finite_at_zero_probability():
    p = torch.tensor([0.0, 0.3, 0.7], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64, requires_grad=True)
    (info.kl_divergence(p, q) + info.entropy(p) + info.cross_entropy(p, q)).backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()


# ----------------------------------------------------------------------------- properties
@FAST
@given(prob_pairs())
def test_kl_nonnegative_and_ce_decomposition(pq):
    p, q = pq
    kl = info.kl_divergence(p, q)
    assert kl >= -1e-12
    assert info.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert info.cross_entropy(p, q) == pytest.approx(info.entropy(p) + kl, rel=1e-9, abs=1e-12)


@FAST
@given(prob_pairs(allow_zero=True))
def test_js_symmetric_bounded(pq):
    p, q = pq
    js = info.js_divergence(p, q)
    assert js == pytest.approx(info.js_divergence(q, p), abs=1e-12)
    assert -1e-12 <= js <= LN2 + 1e-12
    assert info.js_divergence(p, q, base=2) <= 1 + 1e-12


@FAST
@given(prob_pairs(allow_zero=True), st.sampled_from([2, 10, 0.5, math.e]))
def test_base_conversion(pq, base):
    p, q = pq
    lb = math.log(base)
    assert info.entropy(p, base=base) == pytest.approx(info.entropy(p) / lb, rel=1e-12, abs=1e-15)
    assert info.kl_divergence(p, q, base=base) == pytest.approx(
        info.kl_divergence(p, q) / lb, rel=1e-12, abs=1e-15
    )


def test_bits_and_e():
    assert info.entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    assert info.entropy([0.25] * 4, base=2) == pytest.approx(2.0)
    assert info.entropy([0.25] * 4, base="e") == pytest.approx(math.log(4))
    assert info.js_divergence([1, 0], [0, 1], base=2) == pytest.approx(1.0)
    assert info.js_divergence([1, 0], [0, 1]) == pytest.approx(LN2)


@FAST
@given(prob_vectors())
def test_entropy_bounds(p):
    h = info.entropy(p)
    assert -1e-12 <= h <= math.log(len(p)) + 1e-12


# ----------------------------------------------------------------------------- conventions
def test_zero_log_zero():
    assert info.entropy([1.0, 0.0]) == 0.0
    assert not np.signbit(info.entropy([1.0, 0.0]))  # +0.0, not -0.0
    assert info.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(LN2)
    # p = 0 where q = 0: the term is 0, not NaN
    assert info.kl_divergence([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert info.cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0
    np.testing.assert_allclose(info.entropy_from_logits([0.0, -np.inf]), 0.0)


def test_kl_inf_where_q_zero():
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    t = info.kl_divergence(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]))
    assert torch.isinf(t) and t > 0
    assert info.kl_divergence_from_logits([0.0, 0.0], [0.0, -np.inf]) == np.inf
    # but JS stays finite
    assert info.js_divergence([0.5, 0.5], [1.0, 0.0]) < LN2


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_extreme_logits_finite(kind):
    a = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    b = np.array([[-1e4, 1e4, 0.0], [1e4, 0.0, -1e4]])
    if kind == "torch":
        a, b = torch.tensor(a, requires_grad=True), torch.tensor(b)
    outs = [info.entropy_from_logits(a)] + [fn(a, b) for fn in LOGIT_FNS]
    for out in outs:
        arr = out.detach().numpy() if kind == "torch" else out
        assert np.isfinite(arr).all()
    kl = info.kl_divergence_from_logits(a, b)
    kl_arr = kl.detach().numpy() if kind == "torch" else kl
    np.testing.assert_allclose(kl_arr, [2e4, 2e4])
    if kind == "torch":
        sum(o.sum() for o in outs).backward()
        assert torch.isfinite(a.grad).all()


@pytest.mark.parametrize("dtype,tol", [(torch.float16, 5e-3), (torch.bfloat16, 3e-2)])
def test_low_precision_logits(dtype, tol):
    # tolerances: the logits themselves are rounded to 11 (fp16) / 8 (bf16) significant bits;
    # with |z| ~ 3 that moves each logit by ~1.5e-3 / 1.2e-2, and the measures by about as much
    a, b = torch.randn(8, 10) * 3, torch.randn(8, 10) * 3
    for fn in LOGIT_FNS:
        ref = fn(a, b)
        low = fn(a.to(dtype), b.to(dtype))
        assert low.dtype == torch.float32
        torch.testing.assert_close(low, ref, atol=tol, rtol=tol)
        # computed in float32: exactly the float32 result on the rounded inputs
        torch.testing.assert_close(low, fn(a.to(dtype).float(), b.to(dtype).float()))
    h = info.entropy_from_logits(a.to(dtype))
    assert h.dtype == torch.float32
    torch.testing.assert_close(h, info.entropy_from_logits(a), atol=tol, rtol=tol)
    big = torch.tensor([[1e4, -1e4, 0.0]], dtype=dtype)
    assert torch.isfinite(info.kl_divergence_from_logits(big, big.flip(-1))).all()


def test_float32_softmax_many_classes_passes_validation():
    z = torch.randn(16, 1000)
    p = torch.softmax(z, -1)
    assert torch.isfinite(info.entropy(p)).all()


# ----------------------------------------------------------------------------- binary entropy
def test_binary_entropy():
    np.testing.assert_allclose(info.binary_entropy([0.0, 0.5, 1.0], base=2), [0.0, 1.0, 0.0])
    ps = np.linspace(0.01, 0.99, 25)
    np.testing.assert_allclose(
        info.binary_entropy(ps), info.entropy(np.stack([ps, 1 - ps], -1)), rtol=1e-12
    )
    np.testing.assert_allclose(info.binary_entropy(ps), special.entr(ps) + special.entr(1 - ps))
    pt = torch.tensor(ps, requires_grad=True)
    info.binary_entropy(pt).sum().backward()
    np.testing.assert_allclose(pt.grad.numpy(), np.log((1 - ps) / ps))
    with pytest.raises(ValueError, match="p must hold probabilities"):
        info.binary_entropy([1.2])


# ----------------------------------------------------------------------------- Gaussians
@pytest.mark.parametrize("mu1,s1,mu2,s2", [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -0.5, 1.5), (0.3, 0.4, 0.0, 1.0)])
def test_gaussian_kl_vs_quadrature(mu1, s1, mu2, s2):
    def integrand(x):
        return stats.norm.pdf(x, mu1, s1) * (
            stats.norm.logpdf(x, mu1, s1) - stats.norm.logpdf(x, mu2, s2)
        )

    ref, _ = integrate.quad(integrand, mu1 - 30 * s1, mu1 + 30 * s1, limit=200)
    assert info.gaussian_kl(mu1, s1, mu2, s2) == pytest.approx(ref, abs=1e-9)


def test_gaussian_kl_vs_monte_carlo():
    rng = np.random.default_rng(9)
    mu1, s1, mu2, s2 = 0.7, 1.3, -0.2, 0.9
    x = rng.normal(mu1, s1, size=400_000)
    samples = stats.norm.logpdf(x, mu1, s1) - stats.norm.logpdf(x, mu2, s2)
    se = samples.std() / math.sqrt(x.size)
    assert abs(info.gaussian_kl(mu1, s1, mu2, s2) - samples.mean()) < 4 * se


def test_gaussian_kl_torch_and_axis():
    mu1, s1 = torch.randn(4, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64) + 0.5
    mu2, s2 = torch.randn(4, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64) + 0.5
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu1, s1), torch.distributions.Normal(mu2, s2)
    )
    torch.testing.assert_close(info.gaussian_kl(mu1, s1, mu2, s2), ref)
    torch.testing.assert_close(info.gaussian_kl(mu1, s1, mu2, s2, axis=-1), ref.sum(-1))
    np.testing.assert_allclose(
        info.gaussian_kl(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy(), axis=0),
        ref.sum(0).numpy(),
    )
    assert info.gaussian_kl(1.0, 1.0, 1.0, 1.0) == 0.0


def test_vae_kl_vs_gaussian_kl():
    mu = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    v = info.vae_kl(mu, logvar)
    torch.testing.assert_close(v, info.gaussian_kl(mu, torch.exp(logvar / 2), axis=-1))
    v.sum().backward()
    torch.testing.assert_close(mu.grad, mu.detach())
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1))
    np.testing.assert_allclose(info.vae_kl(mu.detach().numpy(), logvar.detach().numpy()), v.detach().numpy())
    assert info.vae_kl(mu.detach(), logvar.detach(), axis=None).shape == (5, 4)
    assert info.vae_kl([0.0, 0.0], [0.0, 0.0]) == 0.0


# ----------------------------------------------------------------------------- validation errors
class TestValidation:
    def test_negative(self):
        with pytest.raises(ValueError, match=r"^p has a negative entry"):
            info.entropy([1.2, -0.2])
        with pytest.raises(ValueError, match=r"^q has a negative entry q\[1\]"):
            info.kl_divergence([0.5, 0.5], [1.1, -0.1])

    def test_nan_and_inf(self):
        with pytest.raises(ValueError, match=r"^p contains NaN"):
            info.entropy([np.nan, 1.0])
        with pytest.raises(ValueError, match=r"^q contains NaN"):
            info.cross_entropy([0.5, 0.5], torch.tensor([np.nan, 1.0]))
        with pytest.raises(ValueError, match=r"^q contains an infinite"):
            info.js_divergence([0.5, 0.5], [np.inf, 0.0])
        with pytest.raises(ValueError, match=r"^p_logits contains NaN"):
            info.kl_divergence_from_logits([np.nan, 0.0], [0.0, 0.0])

    def test_not_normalised(self):
        with pytest.raises(ValueError, match=r"^p must sum to 1 .* row \(1,\) sums to 0\.4.*softmax"):
            info.entropy([[0.5, 0.5], [0.2, 0.2]])
        with pytest.raises(ValueError, match=r"^q must sum to 1 along axis 0"):
            info.kl_divergence(np.full((3, 2), 1 / 3), np.full((3, 2), 0.5), axis=0)
        # a looser atol lets it through
        assert np.isfinite(info.entropy([0.5, 0.49], atol=0.02))
        # validate=False skips the check
        assert np.isfinite(info.entropy([0.5, 0.4], validate=False))

    def test_shapes(self):
        with pytest.raises(ValueError, match=r"^p with shape \(2, 3\) and q with shape \(4,\)"):
            info.kl_divergence(np.full((2, 3), 1 / 3), np.full(4, 0.25))
        with pytest.raises(ValueError, match=r"p_logits with shape .* q_logits"):
            info.kl_divergence_from_logits(np.zeros((2, 3)), np.zeros(4))
        with pytest.raises(ValueError, match="do not broadcast"):
            info.gaussian_kl(np.zeros(3), np.ones(2))
        with pytest.raises(ValueError, match="mu with shape"):
            info.vae_kl(np.zeros(3), np.zeros(2))

    def test_axis(self):
        with pytest.raises(ValueError, match=r"axis=2 is out of range for p"):
            info.entropy([0.5, 0.5], axis=2)
        with pytest.raises(ValueError, match=r"axis=-3 is out of range for logits"):
            info.entropy_from_logits(np.zeros((2, 2)), axis=-3)
        with pytest.raises(ValueError, match=r"p is a scalar"):
            info.entropy(1.0)
        with pytest.raises(ValueError, match="axis must be an int"):
            info.entropy([0.5, 0.5], axis=1.5)

    def test_base(self):
        for bad in (1, 0, -2, "two", float("nan"), True):
            with pytest.raises(ValueError, match="base must be"):
                info.entropy([0.5, 0.5], base=bad)

    def test_temperature(self):
        for bad in (0.0, -1.0, float("inf")):
            with pytest.raises(ValueError, match="temperature must be"):
                info.softmax([1.0, 2.0], temperature=bad)
            with pytest.raises(ValueError, match="temperature must be"):
                info.kl_divergence_from_logits([1.0, 2.0], [0.0, 0.0], temperature=bad)

    def test_sigma(self):
        with pytest.raises(ValueError, match=r"^sigma1 must be > 0"):
            info.gaussian_kl(0.0, -1.0)
        with pytest.raises(ValueError, match=r"^sigma2 must be > 0"):
            info.gaussian_kl(0.0, 1.0, 0.0, torch.tensor([1.0, 0.0]))

    def test_validation_under_autograd(self):
        p = torch.tensor([0.6, 0.6], requires_grad=True)
        with pytest.raises(ValueError, match=r"^p must sum to 1"):
            info.entropy(p)
        good = torch.tensor([0.4, 0.6], requires_grad=True)
        info.entropy(good).backward()
        assert good.grad is not None


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_gaussian_and_vae_kl_reject_nan_means(backend):
    nan = np.array([0.0, np.nan])
    arr = torch.from_numpy(nan) if backend == "torch" else nan
    with pytest.raises(ValueError, match=r"^mu1 contains NaN"):
        info.gaussian_kl(arr, 1.0)
    with pytest.raises(ValueError, match=r"^mu2 contains NaN"):
        info.gaussian_kl(0.0, 1.0, arr, 1.0)
    with pytest.raises(ValueError, match=r"^mu contains NaN"):
        info.vae_kl(arr, arr * 0)
    with pytest.raises(ValueError, match=r"^logvar contains NaN"):
        info.vae_kl(np.zeros(2) if backend == "numpy" else torch.zeros(2), arr)
