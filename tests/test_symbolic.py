"""Tests of klviz.symbolic: each proof simplifies to 0, and each expression agrees numerically
with klviz.info / torch autograd (an independent computation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

from klviz import info
from klviz import symbolic as S


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


# ----------------------------------------------------------------------------- DKL == KL
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_dkl_gradient_equivalence(n):
    res = S.prove_dkl_gradient_equivalence(n)
    assert res["holds"] is True
    assert res["student_residuals"] == [0] * n
    assert res["teacher_residuals"] == [0] * n
    assert all(r == 0 for r in res["closed_form_residuals"])


@pytest.mark.parametrize("n,temperature", [(2, True), (3, 2), (2, sp.Rational(1, 3)), (3, 0.5)])
def test_dkl_gradient_equivalence_with_temperature(n, temperature):
    res = S.prove_dkl_gradient_equivalence(n, temperature=temperature)
    assert res["holds"] is True
    assert all(r == 0 for r in res["student_residuals"] + res["teacher_residuals"])


def test_dkl_needs_stop_gradient():
    # without the stop-gradients the gradients differ: the proof is not vacuous
    res = S.prove_dkl_gradient_equivalence(2, stop_gradient=False)
    assert res["holds"] is False
    assert any(r != 0 for r in res["student_residuals"] + res["teacher_residuals"])


def test_dkl_numeric_against_torch_autograd():
    """Evaluate the symbolic gradients at random logits and compare with torch autograd of
    klviz.info.kl_divergence_from_logits (and of a torch DKL with .detach() as S)."""
    n, T = 4, 2.0
    res = S.prove_dkl_gradient_equivalence(n, temperature=T)
    om = torch.randn(n, dtype=torch.float64, requires_grad=True)
    on = torch.randn(n, dtype=torch.float64, requires_grad=True)
    info.kl_divergence_from_logits(om, on, temperature=T).backward()

    args = res["o_m"] + res["o_n"]
    vals = om.tolist() + on.tolist()
    g_m = sp.lambdify(args, res["grad_dkl_teacher"], "math")(*vals)
    g_n = sp.lambdify(args, res["grad_dkl_student"], "math")(*vals)
    kl_value = sp.lambdify(args, res["kl"], "math")(*vals)
    np.testing.assert_allclose(g_m, om.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_n, on.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert kl_value == pytest.approx(
        float(info.kl_divergence_from_logits(om.detach(), on.detach(), temperature=T))
    )

    # the same DKL written in torch, with detach() as the stop-gradient
    om2 = om.detach().clone().requires_grad_()
    on2 = on.detach().clone().requires_grad_()
    sm, log_sn = torch.softmax(om2 / T, -1), torch.log_softmax(on2 / T, -1)
    w = (sm[:, None] * sm[None, :]).detach()
    dm = (om2[:, None] - om2[None, :]) / T
    dn = ((on2[:, None] - on2[None, :]) / T).detach()
    dkl = 0.25 * (w * (dm - dn) ** 2).sum() - (sm.detach() * log_sn).sum()
    dkl.backward()
    np.testing.assert_allclose(om2.grad.numpy(), om.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on2.grad.numpy(), on.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- KD gradient
@pytest.mark.parametrize("T", [None, 1, 4, 2.5])
def test_kd_kl_gradient(T):
    grad, closed, diffs = S.kd_kl_gradient(3, T=T)
    assert diffs == [0, 0, 0]
    assert len(grad) == len(closed) == 3


# ----------------------------------------------------------------------------- measures
def test_measures_match_info():
    p_sym, q_sym = S.probabilities(3), S.probabilities(3, "q")
    p = np.array([0.2, 0.3, 0.5])
    q = np.array([0.6, 0.1, 0.3])
    subs = {**dict(zip(p_sym, p)), **dict(zip(q_sym, q))}
    pairs = [
        (S.entropy_expr(p_sym), info.entropy(p)),
        (S.cross_entropy_expr(p_sym, q_sym), info.cross_entropy(p, q)),
        (S.kl_expr(p_sym, q_sym), info.kl_divergence(p, q)),
        (S.js_expr(p_sym, q_sym), info.js_divergence(p, q)),
    ]
    for expr, value in pairs:
        assert float(expr.subs(subs)) == pytest.approx(float(value), rel=1e-12)


def test_softmax_expr():
    z = S.logits(3)
    T = sp.Symbol("T", positive=True)
    sm = S.softmax_expr(z, T)
    assert sp.simplify(sum(sm) - 1) == 0
    vals = [0.5, -1.0, 2.0]
    got = [float(e.subs({**dict(zip(z, vals)), T: 2})) for e in sm]
    np.testing.assert_allclose(got, info.softmax(vals, temperature=2.0))
    lsm = S.log_softmax_expr(z)
    got = [float(e.subs(dict(zip(z, vals)))) for e in lsm]
    np.testing.assert_allclose(got, info.log_softmax(vals))


def test_ce_is_entropy_plus_kl_symbolically():
    p, q = S.probabilities(3), S.probabilities(3, "q")
    diff = S.cross_entropy_expr(p, q) - S.entropy_expr(p) - S.kl_expr(p, q)
    assert sp.simplify(sp.expand_log(diff, force=True)) == 0


def test_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        S.kl_expr(S.probabilities(2), S.probabilities(3, "q"))
    with pytest.raises(ValueError, match="n must be an int"):
        S.probabilities(0)


# ----------------------------------------------------------------------------- entropy facts
@pytest.mark.parametrize("n", [2, 3, 5])
def test_max_entropy_lagrange(n):
    res = S.max_entropy_lagrange(n)
    assert res["p_star"] == [sp.Rational(1, n)] * n
    assert sp.simplify(res["entropy"] - sp.log(n)) == 0
    assert sp.simplify(res["solution"][res["lam"]] - (1 - sp.log(n))) == 0
    assert all(h.subs(res["solution"]) < 0 for h in res["hessian_diagonal"])


def test_binary_entropy():
    res = S.binary_entropy_maximum()
    p = res["p"]
    assert res["argmax"] == sp.Rational(1, 2)
    assert sp.simplify(res["maximum"] - sp.log(2)) == 0
    assert sp.simplify(res["derivative"] - sp.log((1 - p) / p)) == 0
    assert sp.simplify(res["second_derivative"] + 1 / (p * (1 - p))) == 0
    f = sp.lambdify(p, S.binary_entropy_expr(p), "numpy")
    xs = np.linspace(0.05, 0.95, 7)
    np.testing.assert_allclose(f(xs), info.binary_entropy(xs))


# ----------------------------------------------------------------------------- Gaussians
def test_gaussian_kl_derivation_matches_closed_form():
    derived = S.gaussian_kl_expr()
    closed = S.gaussian_kl_closed_form()
    assert sp.simplify(derived - closed) == 0
    mu1, s1, mu2, s2 = S.gaussian_symbols()
    f = sp.lambdify((mu1, s1, mu2, s2), derived, "numpy")
    assert f(1.0, 2.0, -0.5, 1.5) == pytest.approx(info.gaussian_kl(1.0, 2.0, -0.5, 1.5))


def test_vae_kl_expr():
    d = 3
    expr = S.vae_kl_expr(d)
    assert sp.simplify(expr - S.vae_kl_closed_form(d)) == 0
    mu = sp.symbols(f"mu_1:{d + 1}", real=True)
    lv = sp.symbols(f"l_1:{d + 1}", real=True)
    f = sp.lambdify((mu, lv), expr, "numpy")
    m, v = np.array([0.3, -1.0, 2.0]), np.array([0.1, -0.5, 0.7])
    assert f(m, v) == pytest.approx(float(info.vae_kl(m, v)))


# ----------------------------------------------------------------------------- misc identities
def test_bce_gradient():
    grad, closed, diff = S.bce_gradient()
    assert diff == 0
    z, y = sorted(grad.free_symbols, key=str)[::-1]  # (z, y)
    assert float(grad.subs({z: 0.3, y: 1})) == pytest.approx(1 / (1 + math.exp(-0.3)) - 1)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_wmse_identity(n):
    res = S.wmse_identity(n)
    assert res["difference"] == 0
    assert res["expanded_difference"] == 0
    # the appendix form is off by 2 (W - 1) sum w d^2 for general weights ...
    w, d = res["w"], res["d"]
    expected = 2 * (sum(w) - 1) * sum(wj * dj**2 for wj, dj in zip(w, d))
    assert sp.expand(res["appendix_difference"] - expected) == 0
    assert res["appendix_difference"] != 0
    # ... and right when the weights sum to one
    assert res["appendix_difference_normalised"] == 0


def test_latex():
    p = S.probabilities(2)
    assert "\\log" in S.latex(S.entropy_expr(p))
    assert S.latex([p[0], p[1]]) == "p_{1}, p_{2}"


@pytest.mark.parametrize("bad", [0, -1.5])
def test_non_positive_temperatures_are_rejected(bad):
    with pytest.raises(ValueError, match="T must be positive"):
        S.kd_kl_gradient(2, T=bad)
    with pytest.raises(ValueError, match="temperature must be positive"):
        S.prove_dkl_gradient_equivalence(2, temperature=bad)
