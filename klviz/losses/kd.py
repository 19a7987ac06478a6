"""Knowledge distillation (Hinton et al., 2015) and decoupled KD (Zhao et al., CVPR 2022).

Both are written in autograd form as row functions and run by :mod:`klviz.losses._engine`
(masks, chunks, reductions). DKD's binary target/non-target split is computed in log space
with a :func:`log1mexp`, so a target class of tiny (or near-one) probability loses no digits.
Explained in the chapters ``ch-kl-practice`` (KD) and ``ch-lab`` (DKD).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from klviz import _checks
from klviz.losses import checks
from klviz.losses._engine import RowFn, compute_dtype, reduce, run_rows, scaled, select, shift_rows
from klviz.losses.registry import hyper, register

__all__ = ["kd_loss", "dkd_loss", "dkd_terms", "log1mexp"]

_LN2 = math.log(2.0)


def _kd_rows(T: float) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = compute_dtype(s, t)
        ls = F.log_softmax(scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(scaled(t, T, cd), dim=-1)
        return (lt.exp() * (lt - ls)).sum(-1) * (T * T)
    return fn


@register("kd", target="none", hypers=(hyper("temperature", 4.0),),
          summary="Hinton et al. (2015): T² KL(softmax(t/T) || softmax(s/T))",
          convention={"t2": "yes", "detached": "nothing (the caller detaches)",
                      "matches": "torchdistill `KDLoss` (batchmean·T²), mdistiller `kd_loss`"})
def kd_loss(student_logits: Tensor, teacher_logits: Tensor, *, temperature: float = 4.0,
            reduction: str = "batchmean", mask: Tensor | None = None,
            chunk_size: int | None = None) -> Tensor:
    r"""Hinton et al. (2015) knowledge distillation loss.

    .. math::
        \mathcal L_{KD} = T^2\,\mathrm{KL}\big(\mathrm{softmax}(t/T)\,\|\,\mathrm{softmax}(s/T)\big)
        = T^2 \sum_j p_j (\log p_j - \log q_j)

    with ``t`` the teacher's and ``s`` the student's logits. The ``T²`` factor keeps the
    gradient's size independent of ``T``. The teacher is *not* detached here: call it with
    ``teacher_logits.detach()`` (or under ``torch.no_grad()``) when distilling. Equal to
    ``F.kl_div(F.log_softmax(s/T,-1), F.log_softmax(t/T,-1), log_target=True,
    reduction="batchmean") * T**2`` for 2-D inputs (torchdistill's ``KDLoss``, mdistiller's
    ``kd_loss``). Explained in the chapter ``ch-kl-practice``.
    """
    T, red, m, cs = checks.common(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    rows = select(student_logits, teacher_logits, None, m)
    return reduce(run_rows(_kd_rows(T), rows, cs), rows, red)


def log1mexp(x: Tensor) -> Tensor:
    r"""``log(1 − exp(x))`` for ``x ≤ 0``, accurate everywhere (Mächler, 2012).

    ``log(−expm1(x))`` for ``x > −ln 2`` and ``log1p(−exp(x))`` below: each form is exact to
    a few ulps where it is used, while ``log(1 − exp(x))`` loses all digits as ``x → 0⁻``
    and ``log1p(−exp(x))`` as well near 0. Both branches see a harmless argument in the rows
    where they are not selected, so the unselected branch never puts ``0·inf = NaN`` into
    the gradient.
    """
    near0 = x > -_LN2
    a = torch.where(near0, x, -1.0)
    b = torch.where(near0, -1.0, x)
    return torch.where(near0, torch.log(-torch.expm1(a)), torch.log1p(-torch.exp(b)))


def _binary_logs(lp: Tensor, l1p: Tensor) -> Tensor:
    """``[log p, log(1 − p)]`` from two estimates of them (last axis of the result).

    ``lp = o_y − logsumexp(o)`` is accurate when ``p ≤ 1/2`` (``|lp| ≥ ln 2``) and
    ``l1p = logsumexp(o_{≠y}) − logsumexp(o)`` when ``p ≥ 1/2``; in each regime the other
    one is derived from the accurate one as ``log1p(−exp(·))`` (:func:`log1mexp` for
    arguments ≤ −ln 2, so neither its other branch nor a guard is needed). The plain difference of two
    logsumexps cancels when ``p`` is tiny: ``log(1 − p) ≈ −p`` then comes out with an
    absolute error of one ulp of ``logsumexp``, a relative error of ``ε/p``.
    """
    small = lp < -_LN2  # p < 1/2
    exact = torch.where(small, lp, l1p)  # ≤ −ln 2 up to rounding: log1mexp's log1p branch
    other = log1mexp(exact)
    return torch.stack((torch.where(small, exact, other), torch.where(small, other, exact)), -1)


def _dkd_parts(s: Tensor, t: Tensor, y: Tensor, T: float) -> tuple[Tensor, Tensor, Tensor]:
    cd = compute_dtype(s, t)
    # shift each row by its (detached) maximum first: the losses do not see the shift, and
    # every log-probability below then carries rounding errors of the size of |o − max o|,
    # not |o| (a factor of 10 on the teacher gradient of logits of size 80)
    os_ = scaled(shift_rows(s.to(cd)), T, cd)
    ot = scaled(shift_rows(t.to(cd)), T, cd)
    yy = y.unsqueeze(-1)
    # Remove the target class with a huge *finite* logit: -inf would give 0·inf = NaN in
    # the non-target KL and in its gradient.
    low = torch.finfo(cd).min
    os_nt = os_.scatter(-1, yy, low)
    ot_nt = ot.scatter(-1, yy, low)
    lse_s, lse_t = torch.logsumexp(os_, -1), torch.logsumexp(ot, -1)
    lse_s_nt, lse_t_nt = torch.logsumexp(os_nt, -1), torch.logsumexp(ot_nt, -1)
    # binary (target, rest) distributions in log space: log b = [log p_y, log(1 - p_y)]
    lbt = _binary_logs(ot.gather(-1, yy).squeeze(-1) - lse_t, lse_t_nt - lse_t)
    lbs = _binary_logs(os_.gather(-1, yy).squeeze(-1) - lse_s, lse_s_nt - lse_s)
    tckd = (lbt.exp() * (lbt - lbs)).sum(-1)
    lt_nt = ot_nt - lse_t_nt.unsqueeze(-1)
    ls_nt = os_nt - lse_s_nt.unsqueeze(-1)
    nckd = (lt_nt.exp() * (lt_nt - ls_nt)).sum(-1)
    p_target = lbt[..., 0].exp()
    return tckd * (T * T), nckd * (T * T), p_target


def dkd_terms(student_logits: Tensor, teacher_logits: Tensor, target: Tensor, *,
              temperature: float = 4.0, mask: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    r"""Per-row pieces of decoupled KD (Zhao et al., CVPR 2022): ``(tckd, nckd, p_target_teacher)``.

    With ``b = (p_y, 1 − p_y)`` the binary target/non-target split and ``p̂`` the
    distribution renormalised over the non-target classes,

    .. math::
        \mathrm{TCKD} = T^2\,\mathrm{KL}(b^{t}\|b^{s}),\quad
        \mathrm{NCKD} = T^2\,\mathrm{KL}(\hat p^{t}\|\hat p^{s}),\quad
        T^2\,\mathrm{KL}(p^t\|p^s) = \mathrm{TCKD} + (1 - p^t_y)\,\mathrm{NCKD}.

    Each has shape ``(B,)`` or ``(B, N)`` (masked rows 0); both terms include ``T²`` so the
    identity holds with :func:`kd_loss` ``(reduction="none")``. Computed in log space
    (``log(1 − p_y)`` by :func:`log1mexp`), so a target of tiny probability, or a teacher
    that is certain of it, gives values and gradients accurate to a few ulps. Chapter ``ch-lab``.
    """
    checks.logits(student_logits, teacher_logits)
    T = _checks.temperature(temperature)
    lead, C = student_logits.shape[:-1], student_logits.shape[-1]
    m = checks.mask(mask, lead, student_logits.device)
    checks.num_classes(C, 2, "dkd_terms")
    y = checks.target(target, lead, C, student_logits.device, m, who="dkd_terms")
    rows = select(student_logits, teacher_logits, y, m)
    return tuple(reduce(v, rows, "none") for v in _dkd_parts(rows.s, rows.t, rows.y, T))  # type: ignore


@register("dkd", target="required",
          hypers=(hyper("alpha", 1.0), hyper("beta", 8.0), hyper("temperature", 4.0)),
          summary="Zhao et al. (CVPR 2022): alpha·TCKD + beta·NCKD, both times T²",
          convention={"t2": "yes (both terms)", "detached": "nothing",
                      "matches": "mdistiller `dkd_loss` (alpha·TCKD + beta·NCKD, divided by the batch size)"})
def dkd_loss(student_logits: Tensor, teacher_logits: Tensor, target: Tensor, *, alpha: float = 1.0,
             beta: float = 8.0, temperature: float = 4.0, reduction: str = "batchmean",
             mask: Tensor | None = None, chunk_size: int | None = None) -> Tensor:
    r"""Decoupled knowledge distillation (Zhao et al., CVPR 2022).

    .. math:: \mathcal L_{DKD} = \alpha\,\mathrm{TCKD} + \beta\,\mathrm{NCKD}

    with both terms scaled by ``T²`` as in mdistiller (see :func:`dkd_terms`). With
    ``alpha=1`` and ``beta = 1 − p^t_y`` per row it would equal :func:`kd_loss`; DKD
    decouples that weight so the non-target knowledge is not suppressed when the teacher is
    confident. The teacher is not detached here. Used in the chapter ``ch-lab``.
    """
    T, red, m, cs = checks.common(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    a, b = _checks.finite(alpha, "alpha"), _checks.finite(beta, "beta")
    lead, C = student_logits.shape[:-1], student_logits.shape[-1]
    checks.num_classes(C, 2, "dkd_loss")
    y = checks.target(target, lead, C, student_logits.device, m, who="dkd_loss")

    def fn(s: Tensor, t: Tensor, yy: Tensor | None) -> Tensor:
        tckd, nckd, _ = _dkd_parts(s, t, yy, T)  # type: ignore[arg-type]
        return a * tckd + b * nckd

    rows = select(student_logits, teacher_logits, y, m)
    return reduce(run_rows(fn, rows, cs), rows, red)
