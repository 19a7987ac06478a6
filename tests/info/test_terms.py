"""Tests of klviz.info._terms: the elementwise terms and their 0 log 0 conventions, for numpy
and torch, against scipy's xlogy / rel_entr (independent implementations)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

from klviz.info import _terms as T

from .strategies import FAST

# pairs of vectors with entries in [0, 1], exact zeros among them
UNIT = st.one_of(st.just(0.0), st.floats(0, 1))
PAIRS = st.integers(1, 8).flatmap(
    lambda n: st.tuples(hnp.arrays(np.float64, n, elements=UNIT), hnp.arrays(np.float64, n, elements=UNIT))
)


@FAST
@given(PAIRS)
def test_terms_match_scipy(pq):
    p, q = pq
    np.testing.assert_allclose(T.plogp_over_q(p, q, False), special.rel_entr(p, q), rtol=1e-12)
    np.testing.assert_allclose(T.plogq(p, q, False), special.xlogy(p, q), rtol=1e-12)
    # the same in torch
    pt, qt = torch.from_numpy(p), torch.from_numpy(q)
    np.testing.assert_allclose(T.plogp_over_q(pt, qt, True).numpy(), special.rel_entr(p, q), rtol=1e-12)
    np.testing.assert_allclose(T.plogq(pt, qt, True).numpy(), special.xlogy(p, q), rtol=1e-12)


def test_conventions():
    p = np.array([0.0, 0.0, 0.5])
    q = np.array([0.0, 0.3, 0.0])
    np.testing.assert_array_equal(T.plogp_over_q(p, q, False), [0.0, 0.0, np.inf])
    np.testing.assert_array_equal(T.plogq(p, q, False), [0.0, 0.0, -np.inf])
    # p_times: exp(-inf) * anything is 0, never NaN
    lp = np.array([-np.inf, 0.0])
    np.testing.assert_array_equal(T.p_times(lp, np.array([np.inf, 2.0]), False), [0.0, 2.0])


def test_gradients_are_finite_at_zero():
    p = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.0, 0.2, 0.8], dtype=torch.float64, requires_grad=True)
    (T.plogp_over_q(p, q, True).sum() + T.plogq(p, q, True).sum()).backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()


@pytest.mark.parametrize("base,divisor", [(None, 1.0), ("e", 1.0), (2, math.log(2)), (10, math.log(10))])
def test_scale(base, divisor):
    assert T.scale(3.0, base) == pytest.approx(3.0 / divisor)


def test_reduce_sum():
    x = np.arange(6.0).reshape(2, 3)
    assert T.reduce_sum(x, None, False) is x
    np.testing.assert_array_equal(T.reduce_sum(x, 1, False), [3.0, 12.0])
    np.testing.assert_array_equal(T.reduce_sum(torch.from_numpy(x), 0, True).numpy(), [3.0, 5.0, 7.0])
