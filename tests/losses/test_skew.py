"""Skew KL / skew reverse KL (klviz.losses.skew) against scipy, autograd and their limits.

The generic checks (masks and token batchmean, half precision, +-1e4 logits, chunking) run
for every registered loss, these two included, in tests/losses/test_engine.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import rel_entr, softmax

from klviz.losses import js_loss, kd_loss, skew_kl_loss, skew_reverse_kl_loss

pytestmark = pytest.mark.usefixtures("torch_seed")


def _scipy(s, t, a, reverse, T=1.0):
    q = softmax(s.detach().numpy() / T, -1)
    p = softmax(t.detach().numpy() / T, -1)
    if reverse:
        return rel_entr(q, a * q + (1 - a) * p).sum(-1)
    return rel_entr(p, a * p + (1 - a) * q).sum(-1)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("a", [0.0, 0.1, 0.5, 0.9])
def test_against_scipy(reverse, a, logit_pair):
    s, t = logit_pair(4, 6, 11)
    fn = skew_reverse_kl_loss if reverse else skew_kl_loss
    got = fn(s, t, skew=a, reduction="none").detach().numpy()
    np.testing.assert_allclose(got, _scipy(s, t, a, reverse), rtol=1e-10, atol=1e-12)
    got_t = fn(s, t, skew=a, temperature=2.5, reduction="none").detach().numpy()
    np.testing.assert_allclose(got_t, _scipy(s, t, a, reverse, 2.5), rtol=1e-10, atol=1e-12)


def test_endpoints_and_bound(logit_pair):
    s, t = logit_pair(5, 9)
    torch.testing.assert_close(skew_kl_loss(s, t, skew=0.0), kd_loss(s, t, temperature=1.0))
    torch.testing.assert_close(skew_reverse_kl_loss(s, t, skew=0.0), js_loss(s, t, beta=1.0))
    # the mixture holds at least skew * p, so SKL <= -log(skew), even for a hopeless student
    far = torch.full_like(s, -50.0)
    far[:, 0] = 50.0
    t2 = torch.zeros_like(t)
    t2[:, 1] = 50.0
    v = skew_kl_loss(far, t2, skew=0.1, reduction="none")
    assert bool((v <= -math.log(0.1) + 1e-9).all()) and bool((v > 2.2).all())


@pytest.mark.parametrize("fn", [skew_kl_loss, skew_reverse_kl_loss])
def test_gradients_match_gradcheck(fn, logit_pair):
    s, t = logit_pair(3, 5, 7)
    mask = torch.tensor([[1, 1, 0, 1, 1]] * 3, dtype=torch.bool)
    assert torch.autograd.gradcheck(lambda a, b: fn(a, b, skew=0.2, mask=mask), (s, t))
    # chunked path: gradients computed during the forward pass agree with plain autograd
    g1 = torch.autograd.grad(fn(s, t, skew=0.2), s)[0]
    g2 = torch.autograd.grad(fn(s, t, skew=0.2, chunk_size=2), s)[0]
    torch.testing.assert_close(g1, g2)


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan")])
def test_bad_skew_is_one_line(bad, logit_pair):
    s, t = logit_pair(2, 3)
    with pytest.raises(ValueError, match="skew"):
        skew_kl_loss(s, t, skew=bad)
    with pytest.raises(TypeError, match="skew"):
        skew_reverse_kl_loss(s, t, skew="0.1")
