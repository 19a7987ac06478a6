r"""The generalized Jensen-Shannon divergence of GKD (Agarwal et al., ICLR 2024), as TRL computes it.

An autograd form (row function) and a fused value-and-gradient kernel, both run by
:mod:`klviz.losses._engine`. Explained in the chapter ``ch-kl-practice``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from klviz import _checks
from klviz.losses import checks
from klviz.losses._engine import KernelFn, RowFn, compute_dtype, reduce, rowdot, run_fused, run_rows, scaled, select
from klviz.losses.registry import hyper, register

__all__ = ["js_loss"]

def _js_rows(beta: float, T: float) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = compute_dtype(s, t)
        ls = F.log_softmax(scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(scaled(t, T, cd), dim=-1)
        if beta == 0.0:
            return (lt.exp() * (lt - ls)).sum(-1)
        if beta == 1.0:
            return (ls.exp() * (ls - lt)).sum(-1)
        lm = torch.logaddexp(lt + math.log(beta), ls + math.log1p(-beta))
        return beta * (lt.exp() * (lt - lm)).sum(-1) + (1.0 - beta) * (ls.exp() * (ls - lm)).sum(-1)
    return fn


def _js_kernel(beta: float, T: float) -> KernelFn:
    r"""Fused value and gradients of :func:`js_loss`.

    With ``g_S = log q − log m`` and ``g_T = log p − log m`` (``m = βp + (1−β)q``), the
    derivative of ``β KL(p‖m) + (1−β) KL(q‖m)`` with respect to ``q`` is ``(1−β) g_S`` (the
    terms through ``m`` cancel), so through the softmax
    ``∂/∂o_s = (1−β) q (g_S − Σ q g_S)`` and ``∂/∂o_t = β p (g_T − Σ p g_T)``; the two sums
    are the two KL terms of the value. ``β = 0`` / ``1`` are the forward / reverse KL.
    """
    inv = 1.0 / T

    def k(s: Tensor, t: Tensor, _y: Tensor | None, gs_out: Tensor | None, gt_out: Tensor | None,
          gscale: float) -> Tensor:
        cd = compute_dtype(s, t)
        ls = F.log_softmax(scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(scaled(t, T, cd), dim=-1)
        q = ls.exp()
        p = lt.exp()
        if beta == 0.0 or beta == 1.0:
            # forward KL(p‖q) (β = 0) or reverse KL(q‖p) (β = 1): a = the distribution
            # the expectation is under, with log-ratio r = log a − log b
            la, a_, b_ = (lt, p, q) if beta == 0.0 else (ls, q, p)
            r = la.sub_(ls if beta == 0.0 else lt)
            val = rowdot(a_, r)
            g_a = None if (gs_out if beta == 1.0 else gt_out) is None else \
                torch.mul(r.sub_(val.unsqueeze(-1)), a_)
            # the side under the expectation gets a (r − KL)/T, the other (b − a)/T
            for out, mine in ((gs_out, beta == 1.0), (gt_out, beta == 0.0)):
                if out is None:
                    continue
                if mine:
                    torch.mul(g_a, inv * gscale, out=out)
                else:
                    torch.sub(b_, a_, out=out).mul_(inv * gscale)
            return val if gscale == 1.0 else val.mul_(gscale)
        # log m, clamped so that m = 0 (both probabilities underflowed) gives 0·finite
        lm = torch.lerp(q, p, beta).clamp_min_(torch.finfo(cd).tiny).log_()
        gS = ls.sub_(lm)
        gT = lt.sub_(lm)
        ks = rowdot(q, gS)
        kt = rowdot(p, gT)
        if gs_out is not None:
            torch.mul(gS.sub_(ks.unsqueeze(-1)), q, out=gs_out).mul_((1.0 - beta) * inv * gscale)
        if gt_out is not None:
            torch.mul(gT.sub_(kt.unsqueeze(-1)), p, out=gt_out).mul_(beta * inv * gscale)
        return kt.mul_(beta * gscale).add_(ks, alpha=(1.0 - beta) * gscale)

    return k


@register("js", target="none", fused=True, hypers=(hyper("beta", 0.5), hyper("temperature", 1.0)),
          summary="Agarwal et al. (GKD, ICLR 2024): beta KL(p_T||m) + (1-beta) KL(p_S||m), m = beta p_T + (1-beta) p_S",
          convention={"t2": "no", "detached": "nothing",
                      "matches": "TRL `GKDTrainer.generalized_jsd_loss`"})
def js_loss(student_logits: Tensor, teacher_logits: Tensor, *, beta: float = 0.5, temperature: float = 1.0,
            reduction: str = "batchmean", mask: Tensor | None = None,
            chunk_size: int | None = None, fused: bool = True) -> Tensor:
    r"""Generalized Jensen-Shannon divergence of GKD (Agarwal et al., ICLR 2024).

    With ``p_T = softmax(t/T)``, ``p_S = softmax(s/T)`` and the mixture
    ``m = β p_T + (1−β) p_S`` (GKD's Eq. 1 and TRL's ``generalized_jsd_loss``: ``β`` weights
    the *teacher* in the mixture and in the sum),

    .. math:: \mathrm{JSD}_\beta(p_T\|p_S) = \beta\,\mathrm{KL}(p_T\|m) + (1-\beta)\,\mathrm{KL}(p_S\|m).

    ``β = 0.5`` is the ordinary JSD (at most ``log 2``). The formula tends to 0 as ``β → 0``
    or ``β → 1`` (``m`` becomes one of the two distributions and its KL term gets weight 0).
    At the endpoints this function follows TRL instead: ``β = 0`` returns the forward
    ``KL(p_T‖p_S)`` and ``β = 1`` the reverse ``KL(p_S‖p_T)``, so one knob spans forward
    KL, JSD and reverse KL (the loss is discontinuous at the endpoints). No ``T²`` factor
    (as in TRL); the teacher is not detached here. ``fused=True`` (default) computes the
    value and the analytic gradients in one sweep over cache-sized row chunks (first
    derivatives only); ``fused=False`` is the autograd form (double backward). Explained in
    the chapter ``ch-kl-practice``.
    """
    T, red, m, cs = checks.common(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    bb = _checks.fraction(beta, "beta", hint="the teacher's weight in the mixture")
    rows = select(student_logits, teacher_logits, None, m)
    if fused:
        return run_fused(_js_kernel(bb, T), rows, cs, red)
    return reduce(run_rows(_js_rows(bb, T), rows, cs), rows, red)
