"""Tests of klviz.symbolic.gaussian: derivations equal the closed forms and klviz.info."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from klviz import info
from klviz import symbolic as S


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
