"""KD and DKD (klviz.losses.kd) against F.kl_div, a transcription of mdistiller and identities."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz.losses import (
    dkd_loss,
    dkd_terms,
    kd_loss,
)

D64 = torch.float64
pytestmark = pytest.mark.usefixtures("torch_seed")


@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("T", [1.0, 4.0])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean"])
def test_kd_matches_f_kl_div(T, reduction, logit_pair):
    s, t = logit_pair(7, 11)
    ref = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True, reduction=reduction) * T**2
    ours = kd_loss(s, t, temperature=T, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, (s, t)), torch.autograd.grad(ref, (s, t)))


def test_kd_none_and_token_batchmean(logit_pair):
    s, t = logit_pair(3, 4, 6)
    rows = F.kl_div(F.log_softmax(s, -1), F.log_softmax(t, -1), log_target=True, reduction="none").sum(-1)
    torch.testing.assert_close(kd_loss(s, t, temperature=1.0, reduction="none"), rows)
    # (B, N, C): batchmean divides by the number of tokens B*N, not by B as F.kl_div does
    torch.testing.assert_close(kd_loss(s, t, temperature=1.0), rows.sum() / 12)


def _dkd_mdistiller_style(s, t, y, alpha, beta, T):
    """Transcription of the mdistiller formula (probabilities, -1000 mask) for small logits."""
    gt = F.one_hot(y, s.shape[-1]).to(s.dtype)
    ps, pt = F.softmax(s / T, -1), F.softmax(t / T, -1)
    bs = torch.stack(((ps * gt).sum(-1), (ps * (1 - gt)).sum(-1)), -1)
    bt = torch.stack(((pt * gt).sum(-1), (pt * (1 - gt)).sum(-1)), -1)
    tckd = F.kl_div(torch.log(bs), bt, reduction="sum") * T**2 / s.shape[0]
    nt = F.softmax(t / T - 1000.0 * gt, -1)
    ns = F.log_softmax(s / T - 1000.0 * gt, -1)
    nckd = F.kl_div(ns, nt, reduction="sum") * T**2 / s.shape[0]
    return alpha * tckd + beta * nckd


def test_dkd_matches_mdistiller_formula(logit_pair):
    s, t = logit_pair(6, 10)
    y = torch.randint(0, 10, (6,))
    ours = dkd_loss(s, t, y, alpha=1.0, beta=8.0, temperature=4.0)
    ref = _dkd_mdistiller_style(s, t, y, 1.0, 8.0, 4.0)
    torch.testing.assert_close(ours, ref)
    # student side only: the reference's teacher gradient is NaN (log of an underflowed 0)
    torch.testing.assert_close(torch.autograd.grad(ours, s)[0], torch.autograd.grad(ref, s)[0])


@settings(max_examples=25, deadline=None)
@given(C=st.integers(2, 40), T=st.floats(0.5, 8.0), scale=st.floats(0.1, 30.0), seed=st.integers(0, 10_000))
def test_dkd_identity_property(C, T, scale, seed):
    g = torch.Generator().manual_seed(seed)
    s = scale * torch.randn(4, C, generator=g, dtype=D64)
    t = scale * torch.randn(4, C, generator=g, dtype=D64)
    y = torch.randint(0, C, (4,), generator=g)
    tckd, nckd, p = dkd_terms(s, t, y, temperature=T)
    kl = kd_loss(s, t, temperature=T, reduction="none")
    torch.testing.assert_close(tckd + (1 - p) * nckd, kl, atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(p, torch.softmax(t / T, -1).gather(-1, y[:, None]).squeeze(-1))
    assert bool((tckd >= -1e-12).all()) and bool((nckd >= -1e-12).all())


def test_dkd_terms_alpha_beta_combination_and_mask(logit_pair):
    s, t = logit_pair(2, 3, 5)
    y = torch.randint(0, 5, (2, 3))
    mask = torch.tensor([[True, True, False], [True, False, False]])
    tckd, nckd, _ = dkd_terms(s, t, y, mask=mask)
    per_row = dkd_loss(s, t, y, alpha=2.0, beta=5.0, reduction="none", mask=mask)
    torch.testing.assert_close(per_row, 2.0 * tckd + 5.0 * nckd)
    assert float(per_row.detach()[~mask].abs().sum()) == 0.0
