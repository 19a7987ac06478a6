"""The reference and teaching forms of the wMSE (klviz.losses.reference) and the cost benchmark."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz.losses import (
    pairwise_wmse_bruteforce,
    wmse,
    wmse_appendix_form,
    wmse_centred,
    wmse_cost,
    wmse_uncentred,
)


def _brute(w, d):
    # written out here, independently of pairwise_wmse_bruteforce (which takes a and b)
    return (w[..., :, None] * w[..., None, :] * (d[..., :, None] - d[..., None, :]) ** 2).sum((-2, -1))


def test_bruteforce_is_the_definition():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(2, 5, generator=g, dtype=torch.float64), torch.randn(2, 5, generator=g, dtype=torch.float64)
    w = torch.rand(2, 5, generator=g, dtype=torch.float64)
    loops = torch.tensor([sum(float(w[r, j] * w[r, k] * ((a[r, j] - a[r, k]) - (b[r, j] - b[r, k])) ** 2)
                              for j in range(5) for k in range(5)) for r in range(2)], dtype=torch.float64)
    torch.testing.assert_close(pairwise_wmse_bruteforce(a, b, w), loops)
    torch.testing.assert_close(_brute(w, a - b), loops)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0.01, 5.0), min_size=2, max_size=8),
    st.lists(st.floats(-20, 20), min_size=8, max_size=8),
)
def test_uncentred_form_is_exact_in_float64(ws, ds):
    w = torch.tensor(ws, dtype=torch.float64)
    d = torch.tensor(ds[: len(ws)], dtype=torch.float64)
    ref = _brute(w, d)
    assert wmse_uncentred(w, d).item() == pytest.approx(ref.item(), rel=1e-9, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=8), st.floats(0.25, 3.0))
def test_appendix_form_right_only_when_weights_sum_to_one(logits, gamma):
    o = torch.tensor(logits, dtype=torch.float64)
    d = torch.linspace(-1, 2, len(logits), dtype=torch.float64)
    p = torch.softmax(o, -1)
    assert wmse_appendix_form(p, d).item() == pytest.approx(_brute(p, d).item(), rel=1e-9, abs=1e-12)
    w = p**gamma
    W = w.sum()
    # the difference is exactly 2 (W - 1) sum w d^2 (symbolic.wmse_identity)
    diff = _brute(w, d) - wmse_appendix_form(w, d)
    assert diff.item() == pytest.approx((2 * (W - 1) * (w * d**2).sum()).item(), rel=1e-9, abs=1e-12)


def test_uncentred_form_cancels_in_float32():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, 10, generator=gen) + 1e4, torch.randn(8, 10, generator=gen)
    w = torch.softmax(b, -1)
    ref = wmse(a.double(), b.double(), w.double())
    bad = ((wmse_uncentred(w, a - b).double() - ref).abs() / ref).max()
    good = ((wmse(a, b, w).double() - ref).abs() / ref).max()
    assert bad > 1e-1 and good < 1e-2


def test_wmse_forms_validate():
    with pytest.raises(ValueError, match="same shape"):
        wmse_uncentred(torch.ones(3), torch.ones(4))
    with pytest.raises(TypeError):
        wmse_appendix_form(np.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="repeats"):
        wmse_cost([4], repeats=0)
    with pytest.raises(ValueError, match=r"sizes\[i\] must be an int in \[1, inf\], got 0"):
        wmse_cost([0])


def test_wmse_rejects_a_dim_it_does_not_have_and_empty_rows():
    s, t = torch.randn(2, 3), torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"dim=5 is out of range for a with 2 dimension\(s\); use dim in \[-2, 1\]"):
        wmse(s, t, torch.ones(3), dim=5)
    with pytest.raises(ValueError, match="no classes along dim=1"):
        wmse(torch.zeros(2, 0), torch.zeros(2, 0), torch.zeros(2, 0))
    torch.testing.assert_close(wmse(s.T, t.T, torch.ones(3, 1), dim=0), wmse(s, t, torch.ones(3)))


def test_wmse_cost_small():
    r = wmse_cost([4, 16], batch=3, repeats=1)
    np.testing.assert_array_equal(r["C"], [4, 16])
    np.testing.assert_array_equal(r["mem_brute"], 4.0 * 3 * np.array([16, 256]))
    np.testing.assert_array_equal(r["mem_fast"], 4.0 * 3 * np.array([4, 16]))
    assert (r["max_diff"] < 1e-4).all() and (r["time_fast"] > 0).all()


def test_wmse_centred_matches_the_loss_and_the_brute_force():
    g = torch.Generator().manual_seed(5)
    a, b = torch.randn(3, 7, generator=g, dtype=torch.float64), torch.randn(3, 7, generator=g, dtype=torch.float64)
    w = torch.softmax(a, -1) ** 0.5
    brute = pairwise_wmse_bruteforce(a, b, w)
    torch.testing.assert_close(wmse_centred(w, a - b), brute)
    torch.testing.assert_close(wmse(a, b, w), brute)
