"""The d = 2 multivariate Gaussian KL derived coordinate by coordinate equals the general formula,
and both evaluate to torch.distributions' value."""

from __future__ import annotations

import pytest
import sympy as sp
import torch
from torch.distributions import MultivariateNormal, kl_divergence

from klviz.symbolic import mvn_kl_closed_form, mvn_kl_expr, mvn_symbols


@pytest.mark.parametrize("d", [1, 2])
def test_derivation_equals_the_general_formula(d):
    assert sp.simplify(sp.expand(mvn_kl_expr(d) - mvn_kl_closed_form(d))) == 0


def test_d1_is_the_univariate_closed_form():
    from klviz.symbolic import gaussian_kl_closed_form, gaussian_symbols

    m1, s1, m2, s2 = mvn_symbols(1)
    mu1, sig1, mu2, sig2 = gaussian_symbols()
    uni = gaussian_kl_closed_form().subs({mu1: m1[0], mu2: m2[0], sig1: sp.sqrt(s1[0, 0]), sig2: sp.sqrt(s2[0, 0])})
    a, b = s1[0, 0], s2[0, 0]
    pos = {a: sp.Symbol("A", positive=True), b: sp.Symbol("B", positive=True)}
    assert sp.simplify(sp.expand_log((mvn_kl_expr(1) - uni).subs(pos), force=True)) == 0


def test_numbers_match_torch_distributions():
    m1, s1, m2, s2 = mvn_symbols(2)
    vals = {m1[0]: 0.3, m1[1]: -1.0, m2[0]: 1.0, m2[1]: 0.5, s1[0, 0]: 2.0, s1[0, 1]: 0.6, s1[1, 1]: 1.0,
            s2[0, 0]: 1.5, s2[0, 1]: -0.4, s2[1, 1]: 0.8}
    got = float(mvn_kl_expr(2).subs(vals))
    t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    ref = kl_divergence(MultivariateNormal(t(0.3, -1.0), t([2.0, 0.6], [0.6, 1.0])),
                        MultivariateNormal(t(1.0, 0.5), t([1.5, -0.4], [-0.4, 0.8])))
    assert got == pytest.approx(float(ref), rel=1e-12)


def test_bad_size():
    with pytest.raises(ValueError, match="d"):
        mvn_kl_expr(0)
