"""Tests of klviz.symbolic.measures: the expressions agree with klviz.info numerically."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz import info
from klviz import symbolic as S


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


def test_latex():
    p = S.probabilities(2)
    assert "\\log" in S.latex(S.entropy_expr(p))
    assert S.latex([p[0], p[1]]) == "p_{1}, p_{2}"


# ----------------------------------------------------------------------------- properties
_P, _Q = S.probabilities(4), S.probabilities(4, "q")
_FNS = {
    "entropy": (sp.lambdify([_P], S.entropy_expr(_P), "math"), lambda p, q: info.entropy(p)),
    "cross_entropy": (sp.lambdify([_P, _Q], S.cross_entropy_expr(_P, _Q), "math"), info.cross_entropy),
    "kl": (sp.lambdify([_P, _Q], S.kl_expr(_P, _Q), "math"), info.kl_divergence),
    "js": (sp.lambdify([_P, _Q], S.js_expr(_P, _Q), "math"), info.js_divergence),
}
_VEC = st.lists(st.floats(1e-3, 1.0), min_size=4, max_size=4).map(lambda xs: np.array(xs) / sum(xs))


@settings(max_examples=40, deadline=None)
@given(_VEC, _VEC)
def test_expressions_equal_the_numerical_measures(p, q):
    for name, (expr_fn, info_fn) in _FNS.items():
        got = expr_fn(p) if name == "entropy" else expr_fn(p, q)
        assert got == pytest.approx(float(info_fn(p, q)), rel=1e-10, abs=1e-14), name


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=3, max_size=3), st.floats(0.1, 10))
def test_softmax_expr_equals_info_softmax(z, T):
    zs = S.logits(3)
    f = sp.lambdify([zs], S.softmax_expr(zs, T), "math")
    g = sp.lambdify([zs], S.log_softmax_expr(zs, T), "math")
    np.testing.assert_allclose(f(z), info.softmax(z, temperature=T), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(g(z), info.log_softmax(z, temperature=T), rtol=1e-10, atol=1e-12)
