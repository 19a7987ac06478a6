"""Tests of klviz.symbolic.maxima: the maximum-entropy derivations."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from klviz import info
from klviz import symbolic as S


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
