"""Fisher information and KL's quadratic form: sympy against the closed forms and numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from klviz import info, symbolic


@pytest.mark.parametrize("k", [2, 3, 4])
def test_categorical_fisher_equals_kl_hessian_and_closed_form(k):
    theta, p = symbolic.categorical_family(k)
    fisher = symbolic.fisher_information(p, theta)
    _, closed = symbolic.categorical_fisher_closed_form(k)
    assert sp.simplify(fisher - closed) == sp.zeros(k - 1, k - 1)
    assert sp.simplify(symbolic.kl_hessian(p, theta) - fisher) == sp.zeros(k - 1, k - 1)


def test_quadratic_form_matches_the_kl_numerically():
    theta, p = symbolic.categorical_family(3)
    _, closed = symbolic.categorical_fisher_closed_form(3)
    point = np.array([0.2, 0.5])
    f_num = np.array(closed.subs(dict(zip(theta, point))), dtype=float)
    direction = np.array([1.0, -2.0])
    for eps, tol in ((1e-2, 0.05), (1e-3, 0.005)):
        d = eps * direction
        p0, p1 = np.append(point, 1 - point.sum()), np.append(point + d, 1 - (point + d).sum())
        ratio = info.kl_divergence(p0, p1) / (0.5 * d @ f_num @ d)
        assert abs(ratio - 1) < tol


def test_gaussian_fisher_both_ways():
    mu1, s1, _, _ = symbolic.gaussian_symbols()
    out = symbolic.gaussian_fisher()
    expected = sp.diag(1 / s1**2, 2 / s1**2)
    assert sp.simplify(out["definition"] - expected) == sp.zeros(2, 2)
    assert sp.simplify(out["kl_hessian"] - expected) == sp.zeros(2, 2)
    # numbers: KL(N(0, 1) || N(d, (1 + e)^2)) ~ (d^2 + 2 e^2) / 2
    d, e = 1e-3, 2e-3
    kl = float(info.gaussian_kl(0.0, 1.0, d, 1.0 + e))
    assert kl == pytest.approx(0.5 * (d**2 + 2 * e**2), rel=1e-2)


def test_binary_pinsker_derivative():
    out = symbolic.binary_pinsker_derivative()
    assert out["difference"] == 0
    p, q = sorted(out["gap"].free_symbols, key=str)
    gap = sp.lambdify((p, q), out["gap"])
    grid = np.linspace(0.01, 0.99, 41)
    assert min(gap(a, b) for a in grid for b in grid) >= -1e-12
    assert gap(0.3, 0.3) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("call, error", [
    (lambda: symbolic.categorical_family(1), ValueError),
    (lambda: symbolic.categorical_family(2.5), TypeError),
])
def test_bad_input(call, error):
    with pytest.raises(error):
        call()
