"""Tests of klviz.info.probs (softmax, log_softmax, log_probs) against scipy and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

from klviz import info
from klviz.info.probs import log_probs

from .strategies import FAST

# logit vectors of 2..8 classes, moderate and extreme magnitudes
LOGITS = hnp.arrays(
    np.float64,
    st.integers(2, 8),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)
TEMPERATURES = st.floats(0.05, 50.0, allow_nan=False, allow_infinity=False)


def test_softmax():
    z = np.random.default_rng(2).normal(size=(4, 6)) * 3
    np.testing.assert_allclose(info.softmax(z, temperature=2.0), special.softmax(z / 2, axis=-1))
    np.testing.assert_allclose(info.log_softmax(z, axis=0), special.log_softmax(z, axis=0))
    zt = torch.tensor(z)
    np.testing.assert_allclose(
        info.softmax(zt, temperature=0.5).numpy(), torch.softmax(zt / 0.5, -1).numpy()
    )
    np.testing.assert_allclose(
        info.log_softmax(zt, temperature=3.0, axis=0).numpy(),
        torch.log_softmax(zt / 3.0, 0).numpy(),
    )


@FAST
@given(LOGITS, TEMPERATURES)
def test_softmax_is_a_distribution_and_shift_invariant(z, T):
    p = info.softmax(z, temperature=T)
    assert np.all(p >= 0) and np.all(np.isfinite(p))
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # adding a constant to every logit leaves the distribution unchanged
    np.testing.assert_allclose(info.softmax(z + 7.0, temperature=T), p, atol=1e-12)
    # log_softmax is the log of softmax wherever softmax does not underflow
    lp = info.log_softmax(z, temperature=T)
    keep = p > 1e-300
    np.testing.assert_allclose(np.exp(lp[keep]), p[keep], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(lp, special.log_softmax(z / T), rtol=1e-12, atol=1e-9)


@FAST
@given(LOGITS, TEMPERATURES)
def test_temperature_divides_the_logits(z, T):
    np.testing.assert_allclose(info.softmax(z, temperature=T), info.softmax(z / T), atol=1e-15)


def test_tensor_temperature_keeps_its_gradient():
    # a learnable temperature (temperature scaling): the division uses the tensor itself
    z = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    T = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    info.log_softmax(z, temperature=T)[0].backward()
    p = torch.softmax(z / 2.0, -1)
    # d/dT log softmax(z/T)_0 = (-z_0 + sum_j p_j z_j) / T^2
    assert T.grad.item() == pytest.approx(float((-z[0] + (p * z).sum()) / 4.0))


def test_low_precision_gives_float32():
    z = torch.randn(3, 5)
    for dtype in (torch.float16, torch.bfloat16):
        out = info.softmax(z.to(dtype))
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, torch.softmax(z.to(dtype).float(), -1))


def test_log_probs_broadcasts_and_checks():
    (lp, lq), ax, torch_ = log_probs((np.zeros((2, 3)), np.zeros(3)), ("a", "b"), -1, 2.0)
    assert ax == 1 and torch_ is False and lp.shape == lq.shape == (2, 3)
    np.testing.assert_allclose(np.exp(lq), 1 / 3)
    with pytest.raises(ValueError, match=r"^b contains NaN or \+inf"):
        log_probs((np.zeros(3), np.array([0.0, np.inf, 0.0])), ("a", "b"), -1, 1.0)
    # -inf is a probability of 0
    (lp,), _, _ = log_probs((np.array([0.0, -np.inf]),), ("z",), -1, 1.0)
    np.testing.assert_allclose(np.exp(lp), [1.0, 0.0])


@pytest.mark.parametrize("fn", [info.softmax, info.log_softmax])
def test_bad_temperature_and_axis(fn):
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="temperature must"):
            fn([1.0, 2.0], temperature=bad)
    for bad in ("2", None, True, [2.0], 1j):
        with pytest.raises(TypeError, match="temperature must be a real number"):
            fn([1.0, 2.0], temperature=bad)
    with pytest.raises(ValueError, match=r"axis=1 is out of range for logits"):
        fn([1.0, 2.0], axis=1)
    with pytest.raises(TypeError, match="axis must be an int"):
        fn([1.0, 2.0], axis=0.0)
    # numpy and 0-d tensor temperatures are numbers too
    np.testing.assert_allclose(fn([1.0, 2.0], temperature=np.float32(2.0)), fn([1.0, 2.0], temperature=2.0))
    z = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(fn(z, temperature=torch.tensor(2.0)), fn(z, temperature=2.0))
