"""Tests of klviz.info.discrete against independent computations (scipy, torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from klviz import info

from .strategies import FAST, prob_pairs, prob_vectors, rng_probs

LN2 = math.log(2.0)


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
