"""Tests of klviz.losses against independent computations (F.kl_div, brute force, finite
differences, a transcription of the published GKL code)."""

from __future__ import annotations

import math
import os
import socket

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz.losses import (
    LOSSES,
    REDUCTIONS,
    ClassStats,
    dkd_loss,
    dkd_terms,
    dkl_loss,
    get_loss,
    gkl_loss,
    ikl_loss,
    js_loss,
    kd_loss,
    loss_names,
    pairwise_wmse_bruteforce,
    wmse,
)

D64 = torch.float64


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def pair(*shape, dtype=D64, scale=2.0, grad=True):
    s = (scale * torch.randn(*shape, dtype=dtype)).requires_grad_(grad)
    t = (scale * torch.randn(*shape, dtype=dtype)).requires_grad_(grad)
    return s, t


def call(name, s, t, y, **kw):
    fn = LOSSES[name]
    if name == "dkd" or (name in ("gkl", "ikl") and "class_stats" in kw):
        return fn(s, t, y, **kw)
    return fn(s, t, **kw)


# ----------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("chunk", [None, 2])
@pytest.mark.parametrize("shape", [(3, 5), (2, 2, 4)])
def test_gradcheck_losses_without_stop_gradient(shape, chunk):
    s, t = pair(*shape)
    y = torch.randint(0, shape[-1], shape[:-1])
    kw = dict(chunk_size=chunk)
    checks = [
        (lambda a, b: kd_loss(a, b, temperature=2.0, **kw), (s, t)),
        (lambda a, b: dkd_loss(a, b, y, alpha=0.7, beta=3.0, temperature=2.0, **kw), (s, t)),
        (lambda a, b: js_loss(a, b, beta=0.3, temperature=1.5, **kw), (s, t)),
        (lambda a, b: js_loss(a, b, beta=0.0, **kw), (s, t)),
        (lambda a, b: js_loss(a, b, beta=1.0, **kw), (s, t)),
    ]
    for fn, inputs in checks:
        assert torch.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("convention", ["book", "official"])
def test_gradcheck_gkl_ikl_student_side(convention):
    # Weights (and the CE's teacher probabilities) are stop-gradients, so only the student
    # side is a true derivative of the value; the teacher side is checked by identities.
    s, _ = pair(3, 6)
    t = 2.0 * torch.randn(3, 6, dtype=D64)
    y = torch.randint(0, 6, (3,))
    table = torch.softmax(torch.randn(6, 6, dtype=D64), -1)
    for kw in (dict(gamma=1.0), dict(gamma=2.5, weight_temperature=3.0), dict(gamma=0.5, class_stats=table)):
        for chunk in (None, 2):
            def fn(a, kw=kw, chunk=chunk):
                return gkl_loss(a, t, y, alpha=0.8, beta=1.3, temperature=2.0, convention=convention,
                                chunk_size=chunk, **kw)
            assert torch.autograd.gradcheck(fn, (s,))
    assert torch.autograd.gradcheck(lambda a: ikl_loss(a, t, y, class_stats=table, convention=convention), (s,))


@pytest.mark.parametrize("T", [1.0, 3.0])
def test_dkl_gradient_matches_finite_differences_of_kl(T):
    # DKL's value is not KL, but its gradient field is KL's: check it against central
    # differences of the KD value (the gradcheck of a loss with stop-gradients).
    s, t = pair(2, 5)
    loss = dkl_loss(s, t, temperature=T)
    gs, gt = torch.autograd.grad(loss, (s, t))
    eps = 1e-6
    for x, g in ((s, gs), (t, gt)):
        num = torch.zeros_like(g)
        for i in range(x.numel()):
            d = torch.zeros_like(x).view(-1)
            d[i] = eps
            d = d.view_as(x)
            with torch.no_grad():
                fp = kd_loss(s + d if x is s else s, t + d if x is t else t, temperature=T)
                fm = kd_loss(s - d if x is s else s, t - d if x is t else t, temperature=T)
            num.view(-1)[i] = (fp - fm) / (2 * eps)
        torch.testing.assert_close(g, num, atol=1e-8, rtol=1e-6)


# ----------------------------------------------------------------------------- KD
@pytest.mark.filterwarnings("ignore:reduction. 'mean'")
@pytest.mark.parametrize("T", [1.0, 4.0])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean"])
def test_kd_matches_f_kl_div(T, reduction):
    s, t = pair(7, 11)
    ref = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True, reduction=reduction) * T**2
    ours = kd_loss(s, t, temperature=T, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, (s, t)), torch.autograd.grad(ref, (s, t)))


def test_kd_none_and_token_batchmean():
    s, t = pair(3, 4, 6)
    rows = F.kl_div(F.log_softmax(s, -1), F.log_softmax(t, -1), log_target=True, reduction="none").sum(-1)
    torch.testing.assert_close(kd_loss(s, t, temperature=1.0, reduction="none"), rows)
    # (B, N, C): batchmean divides by the number of tokens B*N, not by B as F.kl_div does
    torch.testing.assert_close(kd_loss(s, t, temperature=1.0), rows.sum() / 12)


# ---------------------------------------------------------------------------- DKD
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


def test_dkd_matches_mdistiller_formula():
    s, t = pair(6, 10)
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


def test_dkd_terms_alpha_beta_combination_and_mask():
    s, t = pair(2, 3, 5)
    y = torch.randint(0, 5, (2, 3))
    mask = torch.tensor([[True, True, False], [True, False, False]])
    tckd, nckd, _ = dkd_terms(s, t, y, mask=mask)
    per_row = dkd_loss(s, t, y, alpha=2.0, beta=5.0, reduction="none", mask=mask)
    torch.testing.assert_close(per_row, 2.0 * tckd + 5.0 * nckd)
    assert float(per_row.detach()[~mask].abs().sum()) == 0.0


# ---------------------------------------------------------------------------- DKL
@pytest.mark.parametrize("T", [1.0, 4.0])
@pytest.mark.parametrize("C", [2, 10, 100, 1000])
def test_dkl_gradients_equal_kd_gradients(T, C):
    s, t = pair(4, C, scale=3.0)
    gk = torch.autograd.grad(kd_loss(s, t, temperature=T), (s, t))
    gd = torch.autograd.grad(dkl_loss(s, t, alpha=1.0, beta=1.0, temperature=T), (s, t))
    torch.testing.assert_close(gd[0], gk[0], atol=1e-12, rtol=1e-9)  # student (o_n)
    torch.testing.assert_close(gd[1], gk[1], atol=1e-12, rtol=1e-9)  # teacher (o_m)
    # the values differ (DKL drops the teacher's entropy and adds the wMSE)
    with torch.no_grad():
        assert abs(float(dkl_loss(s, t, temperature=T) - kd_loss(s, t, temperature=T))) > 1e-3


def test_dkl_value_is_theorem_1_with_bruteforce_wmse():
    s, t = pair(3, 7)
    T, a, b = 2.0, 0.6, 1.7
    om, on = t / T, s / T
    w = torch.softmax(om, -1)
    ref = T**2 * (a / 4 * pairwise_wmse_bruteforce(om, on, w) - b * (w * torch.log_softmax(on, -1)).sum(-1))
    torch.testing.assert_close(dkl_loss(s, t, alpha=a, beta=b, temperature=T, reduction="none"), ref)


def test_dkl_with_detached_teacher_trains_student_only_through_ce():
    s, t = pair(3, 7)
    g1 = torch.autograd.grad(dkl_loss(s, t.detach(), alpha=5.0, beta=1.0), s)[0]
    g2 = torch.autograd.grad(dkl_loss(s, t.detach(), alpha=0.0, beta=1.0), s)[0]
    torch.testing.assert_close(g1, g2)  # alpha (the wMSE) has no effect: the asymmetry


# ---------------------------------------------------------------------------- wMSE
@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.0])
def test_wmse_matches_bruteforce(gamma):
    a, b = pair(5, 9, grad=False)
    w = torch.softmax(torch.randn(5, 9, dtype=D64), -1) ** gamma
    torch.testing.assert_close(wmse(a, b, w), pairwise_wmse_bruteforce(a, b, w))
    # dim= and broadcasting
    torch.testing.assert_close(wmse(a.T, b.T, w.T, dim=0), pairwise_wmse_bruteforce(a, b, w))
    torch.testing.assert_close(wmse(a, b, w[:1]), pairwise_wmse_bruteforce(a, b, w[:1].expand_as(a)))


def test_wmse_appendix_form_needs_unit_weight_sum():
    a, b = pair(4, 8, grad=False)
    d = a - b
    p = torch.softmax(torch.randn(4, 8, dtype=D64), -1)

    def appendix(w):
        return 2 * (w * d * d).sum(-1) - 2 * (w * d).sum(-1) ** 2

    torch.testing.assert_close(appendix(p), pairwise_wmse_bruteforce(a, b, p))  # Σw = 1: equal
    w = p**2  # GKL's powered weights: Σw < 1
    assert not torch.allclose(appendix(w), pairwise_wmse_bruteforce(a, b, w), rtol=1e-3)
    torch.testing.assert_close(wmse(a, b, w), pairwise_wmse_bruteforce(a, b, w))


def test_wmse_centred_form_is_stable_in_float32():
    a = torch.randn(4, 50, dtype=D64) + 1e4  # large common offset
    b = torch.randn(4, 50, dtype=D64)
    w = torch.softmax(torch.randn(4, 50, dtype=D64), -1)
    ref = pairwise_wmse_bruteforce(a, b, w)
    ours = wmse(a.float(), b.float(), w.float()).double()
    torch.testing.assert_close(ours, ref, rtol=2e-3, atol=0)
    d = (a - b).float()
    wf = w.float()
    naive = 2 * (wf * d * d).sum(-1) - 2 * (wf * d).sum(-1) ** 2
    assert float(((naive.double() - ref).abs() / ref).max()) > 0.05  # cancellation


@pytest.mark.parametrize("offset", [1e4, -3e4])
def test_wmse_large_offset_matches_float64_of_same_inputs(offset):
    # a and b are shifted by their own row maxima before d = a − b is formed, so a common
    # offset costs no digits: compare with float64 on the *same* float32-rounded inputs
    g = torch.Generator().manual_seed(3)
    a = torch.randn(16, 10, generator=g) + offset
    b = 3 * torch.randn(16, 10, generator=g) - 0.5 * offset
    w = torch.softmax(torch.randn(16, 10, generator=g), -1)
    ref = pairwise_wmse_bruteforce(a.double(), b.double(), w.double())
    for ours in (wmse(a, b, w), wmse(a.T, b.T, w.T, dim=0)):
        assert ours.dtype == torch.float32
        assert float(((ours.double() - ref).abs() / ref).max()) < 2e-6
    # the unshifted difference rounds each gap to float32's spacing near 1e4 (~1e-3)
    d = a - b
    naive = 2 * w.sum(-1) * (w * (d - (w * d).sum(-1, keepdim=True)) ** 2).sum(-1)
    assert float(((naive.double() - ref).abs() / ref).max()) > 1e-5


@pytest.mark.parametrize("name", ["dkl", "gkl"])
def test_fused_float32_with_offset_logits_is_accurate(name):
    # logits 1e4 + O(1) in float32: value and gradient within float32 rounding of the
    # float64 evaluation of the same inputs (the kernel subtracts each row's max first)
    g = torch.Generator().manual_seed(4)
    s = torch.randn(6, 300, generator=g) * 3 + 1e4
    t = torch.randn(6, 300, generator=g) * 3 - 1e4
    for T in (1.0, 4.0):
        s32 = s.clone().requires_grad_()
        s64 = s.double().requires_grad_()
        v32 = LOSSES[name](s32, t, temperature=T)
        v64 = LOSSES[name](s64, t.double(), temperature=T, fused=False)
        assert abs(float(v32.detach()) - float(v64.detach())) <= 2e-5 * abs(float(v64.detach()))
        g32, = torch.autograd.grad(v32, s32)
        g64, = torch.autograd.grad(v64, s64)
        torch.testing.assert_close(g32.double(), g64, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------- IKL / GKL
def _gkl_published(s, t, y, prior, *, T, alpha, beta, gamma, T2, GI):
    """Direct re-implementation of the published GKL_KD.dkl_loss (B×C×C, small inputs)."""
    C = s.shape[-1]
    delta_n = t.view(-1, C, 1) - t.view(-1, 1, C)
    delta_a = s.view(-1, C, 1) - s.view(-1, 1, C)
    if GI:
        u = (F.one_hot(y, C).to(s.dtype) @ prior) ** gamma
    else:
        u = F.softmax(t / T2, dim=1) ** gamma
    p_n = u.view(-1, C, 1) @ u.view(-1, 1, C)
    loss_mse = 0.25 * ((delta_n - delta_a) ** 2 * p_n).sum() / p_n.sum()
    loss_sce = -(F.softmax(t / T, -1) * F.log_softmax(s / T, -1)).sum(1).mean()
    return beta * loss_mse + alpha * loss_sce


@pytest.mark.parametrize("GI", [False, True])
@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_gkl_official_matches_published_code(GI, gamma):
    s, _ = pair(6, 8)
    t = 3.0 * torch.randn(6, 8, dtype=D64)
    y = torch.randint(0, 8, (6,))
    prior = torch.softmax(torch.randn(8, 8, dtype=D64), -1)
    kw = dict(T=4.0, alpha=1.0, beta=8.0, gamma=gamma, T2=2.0)
    ref = _gkl_published(s, t, y, prior, GI=GI, **kw)
    ours = gkl_loss(s, t, y, alpha=1.0, beta=8.0, temperature=4.0, gamma=gamma, weight_temperature=2.0,
                    class_stats=prior if GI else None, convention="official")
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours, s)[0], torch.autograd.grad(ref, s)[0])
    chunked = gkl_loss(s, t, y, alpha=1.0, beta=8.0, temperature=4.0, gamma=gamma, weight_temperature=2.0,
                       class_stats=prior if GI else None, convention="official", chunk_size=4)
    torch.testing.assert_close(chunked, ref)
    # teacher fully detached in the official convention
    t2 = t.clone().requires_grad_(True)
    out = gkl_loss(s, t2, y, convention="official")
    assert torch.autograd.grad(out, t2, allow_unused=True)[0] is None


def test_ikl_official_matches_published_ikl_code():
    # IKL_KD.py divides the wMSE by the batch size; with softmax weights (γ=1) that is the
    # batch's total weight, so ikl_loss(convention="official") reproduces it.
    s, t = pair(5, 6, grad=False)
    s.requires_grad_(True)
    T, T2, a, b = 4.0, 3.0, 1.0, 2.0
    C = 6
    dn = t.view(-1, C, 1) - t.view(-1, 1, C)
    da = s.view(-1, C, 1) - s.view(-1, 1, C)
    sn = F.softmax(t / T2, 1)
    pn = sn.view(-1, C, 1) @ sn.view(-1, 1, C)
    ref = b * 0.25 * ((dn - da) ** 2 * pn).sum() / 5 - a * (F.softmax(t / T, -1) * F.log_softmax(s / T, -1)).sum(1).mean()
    ours = ikl_loss(s, t, alpha=a, beta=b, temperature=T, weight_temperature=T2, convention="official")
    torch.testing.assert_close(ours, ref)


def test_gkl_book_formula_and_asymmetry_breaking():
    s, t = pair(4, 9)
    T, a, b, g, Tw = 2.0, 0.7, 1.4, 1.8, 3.0
    om, on = t / T, s / T
    w = torch.softmax(t.detach() / Tw, -1) ** g
    ref = T**2 * (a / 4 * pairwise_wmse_bruteforce(om, on, w) - b * (torch.softmax(om.detach(), -1) * torch.log_softmax(on, -1)).sum(-1))
    ours = gkl_loss(s, t, alpha=a, beta=b, temperature=T, gamma=g, weight_temperature=Tw, reduction="none")
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), (s, t)), torch.autograd.grad(ref.sum(), (s, t)))
    # γ=1, T_w=T: same value as DKL; the student now also gets the wMSE gradient, which is
    # minus the teacher-side wMSE gradient of DKL (the wMSE depends on o_t - o_s only)
    gd_s, gd_t = torch.autograd.grad(dkl_loss(s, t, temperature=T), (s, t))
    ce_t = torch.autograd.grad(dkl_loss(s, t, temperature=T, alpha=0.0), t, allow_unused=True)[0]
    assert ce_t is None or float(ce_t.abs().max()) == 0.0
    gg_s = torch.autograd.grad(gkl_loss(s, t.detach(), temperature=T), s)[0]
    torch.testing.assert_close(gkl_loss(s, t, temperature=T), dkl_loss(s, t, temperature=T))
    torch.testing.assert_close(gg_s, gd_s - gd_t)


def test_gkl_class_stats_weights_and_ikl_is_gamma_one():
    s, t = pair(6, 5)
    y = torch.randint(0, 5, (6,))
    stats = ClassStats(5, temperature=2.0)
    stats.update(t.detach(), y)
    stats.end_epoch()
    w = stats.weights(y).to(D64) ** 3.0
    T = 1.5
    ref = T**2 * (0.25 * pairwise_wmse_bruteforce(t / T, s / T, w) - (torch.softmax(t / T, -1) * torch.log_softmax(s / T, -1)).sum(-1))
    ours = gkl_loss(s, t, y, temperature=T, gamma=3.0, class_stats=stats, reduction="none")
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ikl_loss(s, t, y, class_stats=stats), gkl_loss(s, t, y, class_stats=stats, gamma=1.0))


# ----------------------------------------------------------------------------- JSD
def test_js_definition_and_endpoints():
    s, t = pair(5, 7)
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


# --------------------------------------------------------------------- masks, reductions
ALL = ["kd", "dkd", "dkl", "ikl", "gkl", "js"]


@pytest.mark.parametrize("name", ALL)
def test_mask_and_token_batchmean(name):
    s, t = pair(2, 4, 6)
    y = torch.randint(0, 6, (2, 4))
    mask = torch.tensor([[True, True, False, False], [True, True, True, False]])
    with torch.no_grad():  # garbage in the padded positions must not leak
        s[~mask] = float("nan")
        t[~mask] = float("inf")
        y[~mask] = -100
    out = call(name, s, t, y, mask=mask)
    kept = call(name, s[mask], t[mask], y[mask])  # the 5 real tokens as a (5, C) batch
    torch.testing.assert_close(out, kept)
    gs = torch.autograd.grad(out, s)[0]
    assert torch.isfinite(gs).all() and float(gs[~mask].abs().sum()) == 0.0
    none = call(name, s, t, y, mask=mask, reduction="none")
    assert none.shape == (2, 4) and float(none[~mask].abs().sum()) == 0.0
    torch.testing.assert_close(call(name, s, t, y, mask=mask, reduction="sum"), none.sum())
    torch.testing.assert_close(call(name, s, t, y, mask=mask, reduction="mean"), none.sum() / (5 * 6))
    torch.testing.assert_close(out, none.sum() / 5)
    nothing = torch.zeros(2, 4, dtype=torch.bool)
    for red in REDUCTIONS:
        z = call(name, s, t, y, mask=nothing, reduction=red)
        assert torch.isfinite(z).all() and float(z.abs().sum()) == 0.0


@pytest.mark.parametrize("name", ALL)
def test_mask_on_2d_input(name):
    s, t = pair(5, 4)
    y = torch.randint(0, 4, (5,))
    mask = torch.tensor([True, False, True, True, False])
    torch.testing.assert_close(call(name, s, t, y, mask=mask), call(name, s[mask], t[mask], y[mask]))


# ------------------------------------------------------------------- precision, extremes
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs(name, dtype):
    s32, t32 = pair(8, 50, dtype=torch.float32, grad=False)
    y = torch.randint(0, 50, (8,))
    s, t = s32.to(dtype).requires_grad_(), t32.to(dtype).requires_grad_()
    out = call(name, s, t, y, temperature=2.0)
    assert out.dtype == torch.float32
    # computed in float32: identical to upcasting the rounded inputs first
    ref_rounded = call(name, s.detach().float(), t.detach().float(), y, temperature=2.0)
    torch.testing.assert_close(out.detach(), ref_rounded, rtol=1e-6, atol=1e-6)
    # stated tolerance against the unrounded float32 logits: 2e-2 relative (bf16 keeps 8 bits)
    ref = call(name, s32, t32, y, temperature=2.0)
    torch.testing.assert_close(out.detach(), ref, rtol=2e-2, atol=2e-3)
    g = torch.autograd.grad(out, s)[0]
    assert g.dtype == dtype and torch.isfinite(g).all()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_extreme_logits_are_finite(name, dtype):
    big = 1e4 if dtype != torch.float16 else 6e4
    s = torch.tensor([[big, -big, 0.0, 1.0], [-big, big, -big, big]], dtype=dtype, requires_grad=True)
    t = torch.tensor([[-big, big, big, 0.0], [big, -big, -big, 0.0]], dtype=dtype, requires_grad=True)
    y = torch.tensor([1, 0])
    for T in (1.0, 4.0):
        out = call(name, s, t, y, temperature=T)
        gs, gt = torch.autograd.grad(out, (s, t), allow_unused=True)
        assert torch.isfinite(out), (name, T)
        assert torch.isfinite(gs).all(), (name, T)
        assert gt is None or torch.isfinite(gt).all(), (name, T)
    tckd, nckd, p = dkd_terms(s.float(), t.float(), y)  # teacher certain of the target
    assert torch.isfinite(tckd).all() and torch.isfinite(nckd).all()


# ----------------------------------------------------------------------- validation
def test_validation_errors():
    s, t = pair(3, 4)
    y = torch.randint(0, 4, (3,))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(3, 5\)"):
        kd_loss(s, torch.randn(3, 5))
    with pytest.raises(ValueError, match="reduction must be one of 'batchmean', 'sum', 'mean', 'none'"):
        kd_loss(s, t, reduction="avg")
    for bad_T in (0.0, -1.0, float("nan"), float("inf")):
        for name in ALL:
            with pytest.raises(ValueError, match="temperature"):
                call(name, s, t, y, temperature=bad_T)
    for name in ALL:
        with pytest.raises(ValueError, match="reduction"):
            call(name, s, t, y, reduction="batch_mean")
        with pytest.raises(ValueError, match="same shape"):
            call(name, s, t[:, :3], y)
        with pytest.raises(ValueError, match="mask"):
            call(name, s, t, y, mask=torch.ones(3))  # not bool
        with pytest.raises(ValueError, match="mask must have shape"):
            call(name, s, t, y, mask=torch.ones(4, dtype=torch.bool))
        with pytest.raises(ValueError, match="chunk_size"):
            call(name, s, t, y, chunk_size=0)
    with pytest.raises(TypeError, match="student_logits"):
        kd_loss(s.tolist(), t)
    with pytest.raises(ValueError, match="floating-point"):
        kd_loss(torch.ones(3, 4, dtype=torch.long), t)
    with pytest.raises(ValueError, match=r"\(B, C\) or \(B, N, C\)"):
        kd_loss(torch.randn(4), torch.randn(4))
    with pytest.raises(ValueError, match="needs target"):
        dkd_loss(s, t, None)
    with pytest.raises(ValueError, match="target values must lie in"):
        dkd_loss(s, t, torch.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        dkd_loss(s, t, y.float())
    with pytest.raises(ValueError, match="target must have shape"):
        dkd_loss(s, t, y[:2])
    with pytest.raises(ValueError, match="at least 2 classes"):
        dkd_loss(s[:, :1], t[:, :1], torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="beta must lie in"):
        js_loss(s, t, beta=1.5)
    with pytest.raises(ValueError, match="gamma"):
        gkl_loss(s, t, gamma=0.0)
    with pytest.raises(ValueError, match="weight_temperature"):
        gkl_loss(s, t, weight_temperature=-2.0)
    with pytest.raises(ValueError, match="convention must be one of 'book', 'official'"):
        gkl_loss(s, t, convention="paper")
    with pytest.raises(ValueError, match="needs target"):
        gkl_loss(s, t, class_stats=ClassStats(4))
    with pytest.raises(ValueError, match=r"class_stats must have shape \(4, 4\)"):
        gkl_loss(s, t, y, class_stats=torch.ones(3, 3))
    with pytest.raises(TypeError, match="class_stats"):
        gkl_loss(s, t, y, class_stats=[[1.0]])
    with pytest.raises(ValueError, match="alpha must be finite"):
        dkl_loss(s, t, alpha=float("nan"))
    with pytest.raises(ValueError, match="unknown loss 'kl'; choose one of kd, dkd, dkl, ikl, gkl, js"):
        get_loss("kl")
    with pytest.raises(ValueError, match="num_classes"):
        ClassStats(0)
    with pytest.raises(ValueError, match="broadcast"):
        wmse(torch.ones(2, 3), torch.ones(2, 4), torch.ones(2, 3))


def test_registry():
    assert loss_names() == ["kd", "dkd", "dkl", "ikl", "gkl", "js"]
    assert get_loss("gkl") is gkl_loss and LOSSES["kd"] is kd_loss


# ----------------------------------------------------------------------- ClassStats
def test_class_stats_update_end_epoch_state_dict():
    C = 4
    stats = ClassStats(C, temperature=2.0)
    y = torch.tensor([0, 1, 1, 3])
    torch.testing.assert_close(stats.weights(y), torch.full((4, C), 0.25))  # uniform first epoch
    t = torch.randn(4, C)
    stats.update(t, y)
    stats.update(t[:2], y[:2])
    torch.testing.assert_close(stats.weights(y), torch.full((4, C), 0.25))  # unchanged mid-epoch
    stats.end_epoch()
    p = torch.softmax(t / 2.0, -1)
    expected = torch.full((C, C), 0.25)
    expected[0] = p[0]
    expected[1] = (2 * p[1] + p[2]) / 3
    expected[3] = p[3]  # class 2 unseen: uniform
    torch.testing.assert_close(stats.means, expected)
    torch.testing.assert_close(stats.weights(y), expected[y])
    assert float(stats.counts.sum()) == 0.0 and int(stats.epochs) == 1
    # token-level update with a mask
    stats.update(torch.randn(2, 3, C), torch.tensor([[0, 1, -100], [2, -100, -100]]),
                 mask=torch.tensor([[True, True, False], [True, False, False]]))
    assert float(stats.counts.sum()) == 3.0
    restored = ClassStats(C, temperature=2.0)
    restored.load_state_dict(stats.state_dict())
    for k, v in stats.state_dict().items():
        torch.testing.assert_close(restored.state_dict()[k], v)
    with pytest.raises(ValueError, match="classes"):
        stats.update(torch.randn(2, C + 1), torch.tensor([0, 1]))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gloo_worker(rank: int, world: int, port: int, results) -> None:
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        g = torch.Generator().manual_seed(rank)
        t = torch.randn(6, 3, generator=g)
        y = torch.tensor([0, 0, 1, 1, 2, 2]) if rank == 0 else torch.tensor([0, 1, 1, 1, 1, 1])
        stats = ClassStats(3)
        stats.update(t, y)
        stats.end_epoch()
        results[rank] = stats.means.clone()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_class_stats_all_reduce_gloo_two_processes():
    import torch.multiprocessing as mp

    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    results = manager.dict()
    mp.start_processes(_gloo_worker, args=(2, _free_port(), results), nprocs=2, join=True,
                       start_method="spawn")
    # the single-process answer over both ranks' data
    sums, counts = torch.zeros(3, 3, dtype=D64), torch.zeros(3, dtype=D64)
    for rank, y in ((0, [0, 0, 1, 1, 2, 2]), (1, [0, 1, 1, 1, 1, 1])):
        t = torch.randn(6, 3, generator=torch.Generator().manual_seed(rank))
        p = torch.softmax(t, -1).double()
        sums.index_add_(0, torch.tensor(y), p)
        counts.index_add_(0, torch.tensor(y), torch.ones(6, dtype=D64))
    expected = (sums / counts[:, None]).float()
    torch.testing.assert_close(results[0], expected)
    torch.testing.assert_close(results[1], expected)


# -------------------------------------------------------------------------- chunking
@pytest.mark.parametrize("name", ALL)
def test_chunked_equals_unchunked(name):
    s, t = pair(3, 5, 40, dtype=torch.float32)
    y = torch.randint(0, 40, (3, 5))
    mask = torch.rand(3, 5) > 0.3
    stats = torch.softmax(torch.randn(40, 40), -1)
    kws = [dict(temperature=2.0, mask=mask)]
    if name in ("gkl", "ikl"):
        kws += [dict(class_stats=stats, convention="official", mask=mask),
                dict(class_stats=stats, temperature=3.0, mask=mask)]
    for kw in kws:
        for red in ("batchmean", "none"):
            full = call(name, s, t, y, reduction=red, **kw)
            part = call(name, s, t, y, reduction=red, chunk_size=3, **kw)
            torch.testing.assert_close(part, full)
            w = torch.rand_like(full)  # a non-uniform upstream gradient for "none"
            g_full = torch.autograd.grad((full * w).sum(), (s, t), allow_unused=True)
            g_part = torch.autograd.grad((part * w).sum(), (s, t), allow_unused=True)
            for a, b in zip(g_full, g_part):
                if a is None or b is None:
                    assert (a is None or float(a.abs().max()) == 0) and (b is None or float(b.abs().max()) == 0)
                else:
                    torch.testing.assert_close(b, a)


def test_chunked_bf16_keeps_input_dtype_and_matches():
    s, t = pair(2, 64, 300, dtype=torch.float32, grad=False)
    sb, tb = s.bfloat16().requires_grad_(), t.bfloat16()
    full = js_loss(sb, tb, beta=0.5)
    part = js_loss(sb, tb, beta=0.5, chunk_size=16)
    torch.testing.assert_close(part, full)
    g_full, = torch.autograd.grad(full, sb)
    g_part, = torch.autograd.grad(part, sb)
    assert g_part.dtype == torch.bfloat16
    # the chunked path rounds the per-row gradient to bf16 once more: one bf16 ulp
    torch.testing.assert_close(g_part.float(), g_full.float(), rtol=1e-2, atol=1e-7)


# ----------------------------------------------------------------- fused == autograd
@pytest.mark.parametrize("convention", ["book", "official"])
def test_fused_gkl_matches_autograd_form(convention):
    table = torch.softmax(torch.randn(12, 12, dtype=D64), -1)
    configs = [dict(), dict(gamma=2.0), dict(gamma=0.7, weight_temperature=2.5), dict(class_stats=table, gamma=1.5)]
    for kw in configs:
        for T in (1.0, 3.0):
            for chunk in (None, 3):
                s, t = pair(7, 12)
                y = torch.randint(0, 12, (7,))
                up = torch.rand(7, dtype=D64)
                common = dict(alpha=0.7, beta=1.9, temperature=T, convention=convention, reduction="none", **kw)
                a = gkl_loss(s, t, y, chunk_size=chunk, **common)
                b = gkl_loss(s, t, y, fused=False, **common)
                torch.testing.assert_close(a, b)
                ga = torch.autograd.grad((a * up).sum(), (s, t), allow_unused=True)
                gb = torch.autograd.grad((b * up).sum(), (s, t), allow_unused=True)
                torch.testing.assert_close(ga[0], gb[0])
                if convention == "book":
                    torch.testing.assert_close(ga[1], gb[1])
                else:
                    assert ga[1] is None and gb[1] is None


@pytest.mark.parametrize("T", [1.0, 4.0])
def test_fused_dkl_matches_autograd_form(T):
    s, t = pair(2, 3, 9)
    mask = torch.tensor([[True, False, True], [True, True, True]])
    a = dkl_loss(s, t, alpha=0.3, beta=2.0, temperature=T, mask=mask)
    b = dkl_loss(s, t, alpha=0.3, beta=2.0, temperature=T, mask=mask, fused=False)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(torch.autograd.grad(a, (s, t)), torch.autograd.grad(b, (s, t)))
    # no gradient wanted: the fused path still returns the value
    with torch.no_grad():
        torch.testing.assert_close(dkl_loss(s, t, temperature=T, mask=mask), dkl_loss(s, t, temperature=T, mask=mask, fused=False))
    # the unfused form supports double backward (e.g. for gradient penalties)
    g = torch.autograd.grad(dkl_loss(s, t, temperature=T, fused=False), s, create_graph=True)[0]
    assert g.requires_grad


@pytest.mark.parametrize("name", ["dkl", "gkl", "ikl", "js"])
def test_fused_automatic_row_chunks_match_autograd(name, monkeypatch):
    # on CPU the fused kernels split the rows into cache-sized chunks on their own; force
    # one-, two- and all-row chunks on a small problem and compare with the autograd form
    import klviz.losses as losses

    s, t = pair(3, 5, 12)
    y = torch.randint(0, 12, (3, 5))
    mask = torch.rand(3, 5) > 0.3
    table = torch.softmax(torch.randn(12, 12, dtype=D64), -1)
    kws = [dict(temperature=3.0, alpha=0.6, beta=1.7)]
    if name != "dkl":
        kws += [dict(class_stats=table, convention="official"),
                dict(weight_temperature=3.0, temperature=1.0, convention="official")]
    if name == "gkl":
        kws += [dict(temperature=2.0, gamma=1.5), dict(class_stats=table, gamma=0.5, convention="official")]
    if name == "js":  # the endpoints are the forward and the reverse KL
        kws = [dict(temperature=T, beta=b) for T in (1.0, 3.0) for b in (0.0, 0.3, 0.5, 1.0)]
    for elems in (12, 30, 1 << 20):
        monkeypatch.setattr(losses, "FUSED_CHUNK_ELEMENTS", elems)
        for kw in kws:
            for red in ("batchmean", "none", "sum"):
                args = (s, t, y) if name in ("gkl", "ikl") else (s, t)
                a = LOSSES[name](*args, reduction=red, mask=mask, **kw)
                b = LOSSES[name](*args, reduction=red, mask=mask, fused=False, **kw)
                torch.testing.assert_close(a, b)
                up = torch.rand_like(a)
                ga = torch.autograd.grad((a * up).sum(), (s, t), allow_unused=True)
                gb = torch.autograd.grad((b * up).sum(), (s, t), allow_unused=True)
                for x, z in zip(ga, gb):
                    if x is None or z is None:
                        assert x is None and z is None
                    else:
                        torch.testing.assert_close(x, z)


def test_fused_backward_twice_accumulates():
    # the fused path keeps its gradients on the autograd node: a retained graph must give
    # the same gradient on every backward and .grad must accumulate, not alias it
    s, t = pair(4, 30, dtype=torch.float32)
    out = gkl_loss(s, t.detach(), temperature=2.0)
    g1, = torch.autograd.grad(out, s, retain_graph=True)
    out.backward(retain_graph=True)
    out.backward(retain_graph=True)
    torch.testing.assert_close(s.grad, 2 * g1)
    (2.5 * out).backward()  # an upstream gradient other than 1
    torch.testing.assert_close(s.grad, 4.5 * g1)
