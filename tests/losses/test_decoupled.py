"""wMSE, DKL, IKL and GKL (klviz.losses.decoupled) against the brute force, finite differences
and a transcription of the published GKL/IKL code."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from klviz.losses import (
    LOSSES,
    ClassStats,
    dkl_loss,
    gkl_loss,
    ikl_loss,
    kd_loss,
    pairwise_wmse_bruteforce,
    wmse,
)

D64 = torch.float64
pytestmark = pytest.mark.usefixtures("torch_seed")


@pytest.mark.parametrize("convention", ["book", "official"])
def test_gradcheck_gkl_ikl_student_side(convention, logit_pair):
    # Weights (and the CE's teacher probabilities) are stop-gradients, so only the student
    # side is a true derivative of the value; the teacher side is checked by identities.
    s, _ = logit_pair(3, 6)
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
def test_dkl_gradient_matches_finite_differences_of_kl(T, logit_pair):
    # DKL's value is not KL, but its gradient field is KL's: check it against central
    # differences of the KD value (the gradcheck of a loss with stop-gradients).
    s, t = logit_pair(2, 5)
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


@pytest.mark.parametrize("T", [1.0, 4.0])
@pytest.mark.parametrize("C", [2, 10, 100, 1000])
def test_dkl_gradients_equal_kd_gradients(T, C, logit_pair):
    s, t = logit_pair(4, C, scale=3.0)
    gk = torch.autograd.grad(kd_loss(s, t, temperature=T), (s, t))
    gd = torch.autograd.grad(dkl_loss(s, t, alpha=1.0, beta=1.0, temperature=T), (s, t))
    torch.testing.assert_close(gd[0], gk[0], atol=1e-12, rtol=1e-9)  # student (o_n)
    torch.testing.assert_close(gd[1], gk[1], atol=1e-12, rtol=1e-9)  # teacher (o_m)
    # the values differ (DKL drops the teacher's entropy and adds the wMSE)
    with torch.no_grad():
        assert abs(float(dkl_loss(s, t, temperature=T) - kd_loss(s, t, temperature=T))) > 1e-3


def test_dkl_value_is_theorem_1_with_bruteforce_wmse(logit_pair):
    s, t = logit_pair(3, 7)
    T, a, b = 2.0, 0.6, 1.7
    om, on = t / T, s / T
    w = torch.softmax(om, -1)
    ref = T**2 * (a / 4 * pairwise_wmse_bruteforce(om, on, w) - b * (w * torch.log_softmax(on, -1)).sum(-1))
    torch.testing.assert_close(dkl_loss(s, t, alpha=a, beta=b, temperature=T, reduction="none"), ref)


def test_dkl_with_detached_teacher_trains_student_only_through_ce(logit_pair):
    s, t = logit_pair(3, 7)
    g1 = torch.autograd.grad(dkl_loss(s, t.detach(), alpha=5.0, beta=1.0), s)[0]
    g2 = torch.autograd.grad(dkl_loss(s, t.detach(), alpha=0.0, beta=1.0), s)[0]
    torch.testing.assert_close(g1, g2)  # alpha (the wMSE) has no effect: the asymmetry


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.0])
def test_wmse_matches_bruteforce(gamma, logit_pair):
    a, b = logit_pair(5, 9, grad=False)
    w = torch.softmax(torch.randn(5, 9, dtype=D64), -1) ** gamma
    torch.testing.assert_close(wmse(a, b, w), pairwise_wmse_bruteforce(a, b, w))
    # dim= and broadcasting
    torch.testing.assert_close(wmse(a.T, b.T, w.T, dim=0), pairwise_wmse_bruteforce(a, b, w))
    torch.testing.assert_close(wmse(a, b, w[:1]), pairwise_wmse_bruteforce(a, b, w[:1].expand_as(a)))


def test_wmse_appendix_form_needs_unit_weight_sum(logit_pair):
    a, b = logit_pair(4, 8, grad=False)
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
def test_gkl_official_matches_published_code(GI, gamma, logit_pair):
    s, _ = logit_pair(6, 8)
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


def test_ikl_official_matches_published_ikl_code(logit_pair):
    # IKL_KD.py divides the wMSE by the batch size; with softmax weights (γ=1) that is the
    # batch's total weight, so ikl_loss(convention="official") reproduces it.
    s, t = logit_pair(5, 6, grad=False)
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


def test_gkl_book_formula_and_asymmetry_breaking(logit_pair):
    s, t = logit_pair(4, 9)
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


def test_gkl_class_stats_weights_and_ikl_is_gamma_one(logit_pair):
    s, t = logit_pair(6, 5)
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


@pytest.mark.parametrize("convention", ["book", "official"])
def test_fused_gkl_matches_autograd_form(convention, logit_pair):
    table = torch.softmax(torch.randn(12, 12, dtype=D64), -1)
    configs = [dict(), dict(gamma=2.0), dict(gamma=0.7, weight_temperature=2.5), dict(class_stats=table, gamma=1.5)]
    for kw in configs:
        for T in (1.0, 3.0):
            for chunk in (None, 3):
                s, t = logit_pair(7, 12)
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
def test_fused_dkl_matches_autograd_form(T, logit_pair):
    s, t = logit_pair(2, 3, 9)
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


@pytest.mark.parametrize("small", [0, 1 << 30])
@pytest.mark.parametrize("dtype", [D64, torch.float32, torch.bfloat16])
def test_fused_long_and_short_paths_match_autograd(small, dtype, monkeypatch, logit_pair):
    # the kernel takes a short path (fewest operations) for chunks of at most
    # SMALL_ELEMENTS values and w = p, the long one (fewest buffers) otherwise: force each
    from klviz.losses import decoupled

    monkeypatch.setattr(decoupled, "SMALL_ELEMENTS", small)
    s, t = logit_pair(5, 17)
    s, t = s.detach().to(dtype).requires_grad_(), t.detach().to(dtype).requires_grad_()
    tol = {} if dtype == D64 else dict(rtol=2e-5, atol=2e-6)
    cases = [("dkl", dict(alpha=0.6, beta=1.7, temperature=2.0)), ("gkl", dict(alpha=0.6, beta=1.7, temperature=2.0)),
             ("dkl", dict(temperature=1.0)), ("gkl", dict(temperature=3.0, alpha=0.0))]
    for name, kw in cases:
        for red in ("batchmean", "none"):
            a = LOSSES[name](s, t, reduction=red, **kw)
            b = LOSSES[name](s, t, reduction=red, fused=False, **kw)
            torch.testing.assert_close(a, b, **tol)
            up = torch.rand_like(a)
            ga = torch.autograd.grad((a * up).sum(), (s, t))
            gb = torch.autograd.grad((b * up).sum(), (s, t))
            for x, z in zip(ga, gb):
                assert x.dtype == dtype
                torch.testing.assert_close(x.double(), z.double(),
                                           **({} if dtype == D64 else dict(rtol=2e-2, atol=1e-3)))
