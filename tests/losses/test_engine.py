"""The loss engine (klviz.losses._engine): chunking, masks, reductions, fused kernels,
precisions and extremes, for every registered loss."""

from __future__ import annotations

import pytest
import torch

from klviz.losses import (
    get_spec,
    LOSSES,
    REDUCTIONS,
    dkd_loss,
    dkd_terms,
    gkl_loss,
    js_loss,
    kd_loss,
    loss_names,
)

D64 = torch.float64
ALL = loss_names()
pytestmark = pytest.mark.usefixtures("torch_seed")


@pytest.mark.parametrize("chunk", [None, 2])
@pytest.mark.parametrize("shape", [(3, 5), (2, 2, 4)])
def test_gradcheck_losses_without_stop_gradient(shape, chunk, logit_pair):
    s, t = logit_pair(*shape)
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


@pytest.mark.parametrize("name", ALL)
def test_mask_and_token_batchmean(name, logit_pair, call_loss):
    s, t = logit_pair(2, 4, 6)
    y = torch.randint(0, 6, (2, 4))
    mask = torch.tensor([[True, True, False, False], [True, True, True, False]])
    with torch.no_grad():  # garbage in the padded positions must not leak
        s[~mask] = float("nan")
        t[~mask] = float("inf")
        y[~mask] = -100
    out = call_loss(name, s, t, y, mask=mask)
    kept = call_loss(name, s[mask], t[mask], y[mask])  # the 5 real tokens as a (5, C) batch
    torch.testing.assert_close(out, kept)
    gs = torch.autograd.grad(out, s)[0]
    assert torch.isfinite(gs).all() and float(gs[~mask].abs().sum()) == 0.0
    none = call_loss(name, s, t, y, mask=mask, reduction="none")
    assert none.shape == (2, 4) and float(none[~mask].abs().sum()) == 0.0
    torch.testing.assert_close(call_loss(name, s, t, y, mask=mask, reduction="sum"), none.sum())
    torch.testing.assert_close(call_loss(name, s, t, y, mask=mask, reduction="mean"), none.sum() / (5 * 6))
    torch.testing.assert_close(out, none.sum() / 5)
    nothing = torch.zeros(2, 4, dtype=torch.bool)
    for red in REDUCTIONS:
        z = call_loss(name, s, t, y, mask=nothing, reduction=red)
        assert torch.isfinite(z).all() and float(z.abs().sum()) == 0.0


@pytest.mark.parametrize("name", ALL)
def test_mask_on_2d_input(name, logit_pair, call_loss):
    s, t = logit_pair(5, 4)
    y = torch.randint(0, 4, (5,))
    mask = torch.tensor([True, False, True, True, False])
    torch.testing.assert_close(call_loss(name, s, t, y, mask=mask), call_loss(name, s[mask], t[mask], y[mask]))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs(name, dtype, logit_pair, call_loss):
    s32, t32 = logit_pair(8, 50, dtype=torch.float32, grad=False)
    y = torch.randint(0, 50, (8,))
    s, t = s32.to(dtype).requires_grad_(), t32.to(dtype).requires_grad_()
    out = call_loss(name, s, t, y, temperature=2.0)
    assert out.dtype == torch.float32
    # computed in float32: identical to upcasting the rounded inputs first
    ref_rounded = call_loss(name, s.detach().float(), t.detach().float(), y, temperature=2.0)
    torch.testing.assert_close(out.detach(), ref_rounded, rtol=1e-6, atol=1e-6)
    # stated tolerance against the unrounded float32 logits: 2e-2 relative (bf16 keeps 8 bits)
    ref = call_loss(name, s32, t32, y, temperature=2.0)
    torch.testing.assert_close(out.detach(), ref, rtol=2e-2, atol=2e-3)
    g = torch.autograd.grad(out, s)[0]
    assert g.dtype == dtype and torch.isfinite(g).all()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_extreme_logits_are_finite(name, dtype, call_loss):
    big = 1e4 if dtype != torch.float16 else 6e4
    s = torch.tensor([[big, -big, 0.0, 1.0], [-big, big, -big, big]], dtype=dtype, requires_grad=True)
    t = torch.tensor([[-big, big, big, 0.0], [big, -big, -big, 0.0]], dtype=dtype, requires_grad=True)
    y = torch.tensor([1, 0])
    for T in (1.0, 4.0):
        out = call_loss(name, s, t, y, temperature=T)
        gs, gt = torch.autograd.grad(out, (s, t), allow_unused=True)
        assert torch.isfinite(out), (name, T)
        assert torch.isfinite(gs).all(), (name, T)
        assert gt is None or torch.isfinite(gt).all(), (name, T)
    tckd, nckd, p = dkd_terms(s.float(), t.float(), y)  # teacher certain of the target
    assert torch.isfinite(tckd).all() and torch.isfinite(nckd).all()


@pytest.mark.parametrize("name", ALL)
def test_chunked_equals_unchunked(name, logit_pair, call_loss):
    s, t = logit_pair(3, 5, 40, dtype=torch.float32)
    y = torch.randint(0, 40, (3, 5))
    mask = torch.rand(3, 5) > 0.3
    stats = torch.softmax(torch.randn(40, 40), -1)
    kws = [dict(temperature=2.0, mask=mask)]
    if name in ("gkl", "ikl"):
        kws += [dict(class_stats=stats, convention="official", mask=mask),
                dict(class_stats=stats, temperature=3.0, mask=mask)]
    for kw in kws:
        for red in ("batchmean", "none"):
            full = call_loss(name, s, t, y, reduction=red, **kw)
            part = call_loss(name, s, t, y, reduction=red, chunk_size=3, **kw)
            torch.testing.assert_close(part, full)
            w = torch.rand_like(full)  # a non-uniform upstream gradient for "none"
            g_full = torch.autograd.grad((full * w).sum(), (s, t), allow_unused=True)
            g_part = torch.autograd.grad((part * w).sum(), (s, t), allow_unused=True)
            for a, b in zip(g_full, g_part):
                if a is None or b is None:
                    assert (a is None or float(a.abs().max()) == 0) and (b is None or float(b.abs().max()) == 0)
                else:
                    torch.testing.assert_close(b, a)


def test_chunked_bf16_keeps_input_dtype_and_matches(logit_pair):
    s, t = logit_pair(2, 64, 300, dtype=torch.float32, grad=False)
    sb, tb = s.bfloat16().requires_grad_(), t.bfloat16()
    full = js_loss(sb, tb, beta=0.5)
    part = js_loss(sb, tb, beta=0.5, chunk_size=16)
    torch.testing.assert_close(part, full)
    g_full, = torch.autograd.grad(full, sb)
    g_part, = torch.autograd.grad(part, sb)
    assert g_part.dtype == torch.bfloat16
    # the chunked path rounds the per-row gradient to bf16 once more: one bf16 ulp
    torch.testing.assert_close(g_part.float(), g_full.float(), rtol=1e-2, atol=1e-7)


@pytest.mark.parametrize("name", [n for n in ALL if get_spec(n).fused])
def test_fused_automatic_row_chunks_match_autograd(name, monkeypatch, logit_pair):
    # on CPU the fused kernels split the rows into cache-sized chunks on their own; force
    # one-, two- and all-row chunks on a small problem and compare with the autograd form
    from klviz.losses import _engine

    s, t = logit_pair(3, 5, 12)
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
        monkeypatch.setattr(_engine, "FUSED_CHUNK_ELEMENTS", elems)
        for kw in kws:
            for red in ("batchmean", "none", "sum"):
                args = (s, t, y) if get_spec(name).accepts_target else (s, t)
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


def test_fused_backward_twice_accumulates(logit_pair):
    # the fused path keeps its gradients on the autograd node: a retained graph must give
    # the same gradient on every backward and .grad must accumulate, not alias it
    s, t = logit_pair(4, 30, dtype=torch.float32)
    out = gkl_loss(s, t.detach(), temperature=2.0)
    g1, = torch.autograd.grad(out, s, retain_graph=True)
    out.backward(retain_graph=True)
    out.backward(retain_graph=True)
    torch.testing.assert_close(s.grad, 2 * g1)
    (2.5 * out).backward()  # an upstream gradient other than 1
    torch.testing.assert_close(s.grad, 4.5 * g1)


def test_fused_double_backward_raises():
    s, t = torch.randn(3, 5, dtype=torch.float64, requires_grad=True), torch.randn(3, 5, dtype=torch.float64)
    for name in [n for n in ALL if get_spec(n).fused]:
        with pytest.raises(RuntimeError, match="fused=False"):
            torch.autograd.grad(get_spec(name).fn(s, t), s, create_graph=True)
