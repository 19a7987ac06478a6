"""The generalized JSD (klviz.losses.js) against its definition and TRL's endpoints."""

from __future__ import annotations

import math

import pytest
import torch

from klviz.losses import (
    js_loss,
    kd_loss,
)

pytestmark = pytest.mark.usefixtures("torch_seed")


def test_js_definition_and_endpoints(logit_pair):
    s, t = logit_pair(5, 7)
    ps, pt = torch.softmax(s, -1), torch.softmax(t, -1)

    def kl(p, q):
        return (p * (p.log() - q.log())).sum(-1)

    for beta in (0.1, 0.5, 0.9):
        m = beta * pt + (1 - beta) * ps
        ref = beta * kl(pt, m) + (1 - beta) * kl(ps, m)
        torch.testing.assert_close(js_loss(s, t, beta=beta, reduction="none"), ref)
    half = js_loss(s, t, beta=0.5, reduction="none")
    assert bool((half <= math.log(2)).all())
    # endpoints: TRL's convention, forward and reverse KL
    torch.testing.assert_close(js_loss(s, t, beta=0.0), kd_loss(s, t, temperature=1.0))
    torch.testing.assert_close(js_loss(s, t, beta=1.0), kd_loss(t, s, temperature=1.0))
    # while the formula itself tends to 0 there
    for beta in (1e-7, 1 - 1e-7):
        assert float(js_loss(s, t, beta=beta).detach()) < 1e-5
    # temperature
    torch.testing.assert_close(js_loss(s, t, beta=0.3, temperature=2.0), js_loss(s / 2, t / 2, beta=0.3))
