r"""The decoupled family: the O(C) weighted MSE, DKL, IKL and GKL (Cui et al., arXiv:2305.13948).

DKL rewrites ``KL(s_m ‖ s_n)`` as a weighted MSE of logit differences plus a soft-label
cross-entropy (Theorem 1); IKL and GKL change its weights and remove its stop-gradient.
The pairwise weighted MSE is evaluated in its centred O(C) form (:func:`wmse`), never as a
``B×C×C`` tensor (the brute force is :func:`klviz.losses.reference.pairwise_wmse_bruteforce`).
Each loss has an autograd form (row function) and a fused value-and-gradient kernel
(:func:`_decoupled_kernel`), both run by :mod:`klviz.losses._engine`. Explained in the
chapters ``ch-dkl`` and ``ch-gkl``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from klviz import _checks
from klviz.losses import checks
from klviz.losses._engine import (
    KernelFn,
    RowFn,
    auto_chunk,
    compute_dtype,
    reduce,
    rowdot,
    run_fused,
    run_rows,
    scaled,
    select,
    shift_rows,
    softmax_,
)
from klviz.losses.class_stats import ClassStats
from klviz.losses.registry import hyper, register

__all__ = ["CONVENTIONS", "wmse", "dkl_loss", "gkl_loss", "ikl_loss"]

CONVENTIONS: tuple[str, ...] = ("book", "official")

_DECOUPLED_DETACHED = ("book: the weights, the teacher probabilities in the CE; "
                       "official: the whole teacher side")


def _wmse_rows(d: Tensor, w: Tensor) -> Tensor:
    """Σ_jk w_j w_k (d_j − d_k)² along the last axis, as 2(Σw)·Σ_j w_j (d_j − d̄)²."""
    tiny = torch.finfo(d.dtype).tiny
    total = w.sum(-1, keepdim=True)
    # centring first keeps float32 accurate when d is large (logits of ±1e4)
    dbar = (w * d).sum(-1, keepdim=True) / total.clamp_min(tiny)
    c = d - dbar
    return 2.0 * total.squeeze(-1) * (w * c * c).sum(-1)


def wmse(a: Tensor, b: Tensor, weights: Tensor, *, dim: int = -1) -> Tensor:
    r"""Weighted MSE of pairwise differences, in O(C) per row.

    .. math::
        \mathrm{wMSE}(a, b; w) = \sum_{j,k} w_j w_k \big((a_j - a_k) - (b_j - b_k)\big)^2
        = 2\Big(\sum_j w_j\Big) \sum_j w_j (d_j - \bar d)^2,\quad
        d = a - b,\ \bar d = \frac{\sum_j w_j d_j}{\sum_j w_j}.

    The ``Σw`` factor is kept: it equals 1 only when the weights are probabilities, not once
    they are raised to a power ``γ`` (GKL) or taken from class statistics. The appendix
    form ``2Σw·a² − 2(Σw·a)²`` of arXiv:2305.13948 drops it and is wrong in that case.
    The centred form is stable in float32 (no cancellation of two large sums), and ``a`` and
    ``b`` are each shifted by their own row maximum before ``d`` is formed (the value is
    invariant to such shifts), so logits with a large common offset (``±1e4``) lose no
    digits when ``a − b`` is rounded: the float32 result is within ~1e-6 relative of the
    float64 value of the same inputs.

    ``a``, ``b`` and ``weights`` must broadcast to one shape; the sum runs over ``dim``
    and the result has that axis removed. Half-precision inputs are computed in float32.
    See the chapter ``ch-dkl``; :func:`pairwise_wmse_bruteforce` is the reference.
    """
    for name, x in (("a", a), ("b", b), ("weights", weights)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    try:
        a, b, weights = torch.broadcast_tensors(a, b, weights)
    except RuntimeError:
        raise ValueError(f"a, b and weights must broadcast to one shape, got {tuple(a.shape)}, "
                         f"{tuple(b.shape)} and {tuple(weights.shape)}") from None
    dim = _checks.axis(dim, a.ndim, of="a", name="dim")
    if a.shape[dim] == 0:
        raise ValueError(f"a has no classes along dim={dim} (shape {tuple(a.shape)}); pass at least one class")
    cd = torch.float64 if torch.float64 in (a.dtype, b.dtype, weights.dtype) else torch.float32
    d = shift_rows(a.to(cd).movedim(dim, -1)) - shift_rows(b.to(cd).movedim(dim, -1))
    return _wmse_rows(d, weights.to(cd).movedim(dim, -1))


WeightFn = Callable[[Tensor, "Tensor | None", Tensor, Tensor], Tensor]

#: Chunks of at most this many values (computed in float32) take the short path of the fused
#: kernel (fewest operations, a few more temporaries): below it the Python and dispatch cost
#: of each operation outweighs the memory traffic the long path saves (book/performance.md).
SMALL_ELEMENTS = 1 << 15


def _decoupled_kernel(T: float, wm_coef: float | Tensor, ce_coef: float, dscale: float,
                      weight_fn: WeightFn | None, student_wm: bool) -> KernelFn:
    r"""The fused value-and-gradient kernel shared by DKL, IKL and GKL (both conventions).

    Per row, with ``o = (x − max x)/T`` (a per-row shift: the log-softmax, the CE and the
    wMSE do not see it), ``p = softmax(o_t)``, ``q = softmax(o_s)``, ``d = dscale·(o_t − o_s)``
    and weights ``w`` (``p`` when ``weight_fn`` is None, else ``weight_fn(t, y, o_t, p)``)::

        value = wm_coef · 2W Σ_j w_j (d_j − d̄)²  +  ce_coef · (−Σ_j p_j log q_j)
        ∂/∂s  = (ce_coef/T)(q − p)  −  [student_wm] (4 wm_coef dscale²/T) W · w(c)
        ∂/∂t  =                         (4 wm_coef dscale²/T) W · w(c)

    with ``W = Σw`` (1 for ``w = p``), ``c = o_t − o_s − d̄/dscale``, the weights and the
    CE's teacher side detached. Two paths compute this:

    - the long one (large chunks, or weights other than ``p``) never forms ``log q``
      (``−Σ p log q = log Z_s − Σ p o_s`` with ``log Z_s = −log max_j q_j``, the maximum of
      ``o_s`` being 0) and reuses its buffers, so a chunk holds three temporaries of its size
      besides the gradient it writes: memory traffic is what costs at large C;
    - the short one (``w = p`` and at most :data:`SMALL_ELEMENTS` values) makes the fewest
      operations (18 against 26), since below that size each operation's fixed cost dominates.
    """
    wscale = 2.0 * dscale * dscale
    gcoef = 4.0 * dscale * dscale / T
    inv = 1.0 / T
    # Per-row (R,)-sized operations cost as much Python/dispatch time as a pass over a
    # small chunk, so their number is kept low: Σp = 1 is used exactly (no P, W for w = p).

    def k_small(s: Tensor, t: Tensor, gs_out: Tensor | None, gt_out: Tensor | None, gscale: float,
                cd: torch.dtype) -> Tensor:
        # w = p and a small chunk: per-operation overhead, not memory traffic, is the cost,
        # so the fewest operations win (18 against the long path's 26): the value is one
        # row-wise dot product Σ_j p_j (k1 c_j² − k2 log q_j)
        os_ = s - s.amax(-1, keepdim=True)
        ot = t - t.amax(-1, keepdim=True)
        if T != 1.0:
            os_.mul_(inv)
            ot.mul_(inv)
        p = torch.softmax(ot, -1)
        d = ot.sub_(os_)
        c = d.sub_(rowdot(p, d).unsqueeze(-1))
        ls = torch.log_softmax(os_, -1)
        q = ls.exp() if gs_out is not None else None
        u = ls.mul_(-ce_coef * gscale).addcmul_(c, c, value=wscale * wm_coef * gscale)
        val = rowdot(p, u)
        cw = (gcoef * gscale) * wm_coef
        if gt_out is not None:  # (rounded once to a half-precision gradient, not twice)
            if gt_out.dtype == cd:
                torch.mul(p, c, out=gt_out).mul_(cw)
            else:
                gt_out.copy_(torch.mul(p, c).mul_(cw))
        if q is not None:
            g = q.sub_(p)
            kce = ce_coef * inv * gscale
            if gs_out.dtype == cd:
                g = torch.mul(g, kce, out=gs_out)
            else:
                g.mul_(kce)
            if student_wm:
                g.addcmul_(p, c, value=-cw)
            if g is not gs_out:
                gs_out.copy_(g)
        return val

    def k(s: Tensor, t: Tensor, y: Tensor | None, gs_out: Tensor | None, gt_out: Tensor | None,
          gscale: float) -> Tensor:
        cd = compute_dtype(s, t)
        if s.dtype != cd:
            s = s.to(cd)
        if t.dtype != cd:
            t = t.to(cd)
        # float64 is for checks, not speed: it keeps the long path's arithmetic
        if weight_fn is None and cd == torch.float32 and s.numel() <= SMALL_ELEMENTS:
            return k_small(s, t, gs_out, gt_out, gscale, cd)
        # subtract the row maximum before dividing by T: x − max is exact for logits near
        # each other (1e4 + small), x/T − max/T would round at the size of 1e4/T
        os_ = s - s.amax(-1, keepdim=True)
        ot = t - t.amax(-1, keepdim=True)
        if T != 1.0:
            os_.mul_(inv)
            ot.mul_(inv)
        d = ot - os_  # o_t − o_s up to a per-row shift, which the wMSE ignores
        if weight_fn is None:
            p = w = softmax_(ot)  # ot is not needed any more
            W = None
        else:
            p = torch.softmax(ot, -1)
            w = weight_fn(t, y, ot, p)
            W = w.sum(-1)
            del ot
        # Products go to one scratch buffer (the student gradient's own buffer, free until
        # the end): a chunk then holds three temporaries besides it, and linalg.vecdot's
        # hidden (R, C) temporary is avoided too.
        own = gs_out is not None and gs_out.dtype == cd
        scratch = gs_out if own else torch.empty_like(d)
        # −CE = Σ p log q = Σ p o_s − log Z_s, and q's largest entry is exactly 1/Z_s
        nce = torch.mul(p, os_, out=scratch).sum(-1)
        q = softmax_(os_)  # os_ is not needed any more
        nce.add_(q.amax(-1).log_())
        dbar = torch.mul(w, d, out=scratch).sum(-1)
        if W is not None:
            dbar.div_(W.clamp_min(torch.finfo(cd).tiny))
        c = d.sub_(dbar.unsqueeze(-1))  # centred: no cancellation of large sums in float32
        wc = torch.mul(w, c, out=scratch)
        val = c.mul_(wc).sum(-1)  # Σ w c²; c is not needed any more
        if W is not None:
            val.mul_(W)
        # values come out times gscale, like the gradients (the reduction's 1/n: no extra op)
        val.mul_(wscale * wm_coef * gscale).sub_(nce, alpha=ce_coef * gscale)
        if gs_out is None and gt_out is None:
            return val
        cw = (gcoef * gscale) * wm_coef
        if W is not None:
            cw = W.unsqueeze(-1) * cw
        if gt_out is not None:
            torch.mul(wc, cw, out=gt_out)
        if gs_out is not None:
            kce = ce_coef * inv * gscale
            g = q.sub_(p)
            if student_wm:
                wc.mul_(-cw).add_(g, alpha=kce)  # wc lives in scratch
            else:
                torch.mul(g, kce, out=scratch)
            if not own:
                gs_out.copy_(scratch)
        return val

    return k



def _dkl_rows(T: float, a: float, b: float) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = compute_dtype(s, t)
        os_, ot = scaled(s, T, cd), scaled(t, T, cd)
        ls = F.log_softmax(os_, dim=-1)
        w = F.softmax(ot.detach(), dim=-1)
        # wMSE: gradient reaches the teacher (m) only; CE: the student (n) only (Theorem 1)
        wm = _wmse_rows(shift_rows(ot) - shift_rows(os_.detach()), w)
        ce = -(w * ls).sum(-1)
        return (T * T) * (0.25 * a * wm + b * ce)
    return fn


def _dkl_kernel(T: float, a: float, b: float) -> KernelFn:
    # wMSE: gradient reaches the teacher (m) only; CE: the student (n) only (Theorem 1)
    return _decoupled_kernel(T, 0.25 * a * T * T, b * T * T, 1.0, None, student_wm=False)


@register("dkl", target="none", fused=True,
          hypers=(hyper("alpha", 1.0), hyper("beta", 1.0), hyper("temperature", 1.0)),
          summary="Cui et al. (arXiv:2305.13948, Thm. 1): T²[alpha/4 · wMSE(teacher side) + beta · CE]",
          convention={"t2": "yes",
                      "detached": "wMSE: the weights and the student differences; CE: the teacher probabilities",
                      "matches": "DKL paper Thm. 1 (α/4 · wMSE − β · CE); gradients equal `kd_loss`'s"})
def dkl_loss(student_logits: Tensor, teacher_logits: Tensor, *, alpha: float = 1.0, beta: float = 1.0,
             temperature: float = 1.0, reduction: str = "batchmean", mask: Tensor | None = None,
             chunk_size: int | None = None, fused: bool = True) -> Tensor:
    r"""Decoupled KL (Cui et al., arXiv:2305.13948, Theorem 1) for ``KL(s_m ‖ s_n)``.

    ``m`` = teacher (or clean input) = ``teacher_logits``, ``n`` = student (or adversarial
    input) = ``student_logits``, ``o = logits / T``, ``s = softmax(o)``, ``S`` = stop-gradient:

    .. math::
        \mathcal L_{DKL} = T^2\Big[\frac{\alpha}{4}\sum_{j,k} S(w^m_{jk})
            \big((o_{m,j}-o_{m,k}) - S(o_{n,j}-o_{n,k})\big)^2
            - \beta\, S(s_m)^\top \log s_n\Big],\qquad w^m_{jk} = s_{m,j}s_{m,k}.

    With ``alpha = beta = 1`` its gradients with respect to both logits equal those of
    :func:`kd_loss` at the same ``T`` (its value differs: it lacks the teacher's entropy).
    The wMSE reaches only the teacher side, so with a detached teacher (distillation) only
    the cross-entropy trains the student: the asymmetry IKL/GKL remove.

    ``fused=True`` (default) evaluates the value and the analytic gradients in one sweep
    (first derivatives only); ``fused=False`` is the plain autograd form of the formula
    (supports double backward). Explained in the chapter ``ch-dkl``.
    """
    T, red, m, cs = checks.common(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    a, b = _checks.finite(alpha, "alpha"), _checks.finite(beta, "beta")
    rows = select(student_logits, teacher_logits, None, m)
    if fused:
        return run_fused(_dkl_kernel(T, a, b), rows, cs, red)
    return reduce(run_rows(_dkl_rows(T, a, b), rows, cs), rows, red)



def _stats_table(class_stats: Any, C: int, device: torch.device) -> Tensor:
    if isinstance(class_stats, ClassStats):
        table = class_stats.means
    elif isinstance(class_stats, Tensor):
        table = class_stats
    else:
        raise TypeError("class_stats must be a ClassStats or a (C, C) tensor of per-class mean "
                        f"probabilities, got {type(class_stats).__name__}")
    if table.shape != (C, C):
        raise ValueError(f"class_stats must have shape ({C}, {C}) for {C} classes, got {tuple(table.shape)}")
    return table.detach().to(device)



def _gkl_weights(t: Tensor, y: Tensor | None, table: Tensor | None, Tw: float, gamma: float,
                 cd: torch.dtype) -> Tensor:
    """Detached wMSE weights: ``softmax(t/T_w)^γ`` or ``table[y]^γ``."""
    if table is not None:
        rows = table.to(cd)[y].clamp_min(0.0)
        return rows if gamma == 1.0 else rows.pow(gamma)
    lw = F.log_softmax(scaled(t.detach(), Tw, cd), dim=-1)
    # exp(γ·log p) rather than p**γ: no underflow to 0 before the power
    return lw.exp() if gamma == 1.0 else (gamma * lw).exp()


@register("ikl", target="optional", fused=True,
          hypers=(hyper("alpha", 1.0), hyper("beta", 1.0), hyper("temperature", 1.0),
                  hyper("weight_temperature", None), hyper("convention", "book")),
          summary="Cui et al. (arXiv:2305.13948 v1/v2): GKL with gamma = 1",
          convention={"t2": "book: yes; official: no", "detached": _DECOUPLED_DETACHED,
                      "matches": "book: IKL paper; official: published `IKL_KD.py`"})
def ikl_loss(student_logits: Tensor, teacher_logits: Tensor, target: Tensor | None = None, *,
             alpha: float = 1.0, beta: float = 1.0, temperature: float = 1.0,
             weight_temperature: float | None = None, class_stats: ClassStats | Tensor | None = None,
             convention: str = "book", reduction: str = "batchmean", mask: Tensor | None = None,
             chunk_size: int | None = None, fused: bool = True) -> Tensor:
    r"""Improved KL (IKL) loss of Cui et al. (arXiv:2305.13948 v1/v2).

    IKL = DKL with (1) the asymmetry broken (the student learns from the wMSE) and (3)
    class-wise global weights from ``class_stats``; it has no smoothing exponent. Here it is
    :func:`gkl_loss` with ``gamma=1`` (every other argument means the same, including the
    ``alpha``/``beta`` swap under ``convention="official"``, which then reproduces the
    published ``IKL_KD.py`` up to its normalisation: that file divides the wMSE by the
    batch size, which equals the total weight ``Σ_b(Σ_j u_bj)²`` when ``γ = 1``).
    """
    return gkl_loss(student_logits, teacher_logits, target, alpha=alpha, beta=beta,
                    temperature=temperature, gamma=1.0, weight_temperature=weight_temperature,
                    class_stats=class_stats, convention=convention, reduction=reduction, mask=mask,
                    chunk_size=chunk_size, fused=fused)


@register("gkl", target="optional", fused=True,
          hypers=(hyper("alpha", 1.0), hyper("beta", 1.0), hyper("temperature", 1.0), hyper("gamma", 1.0),
                  hyper("weight_temperature", None), hyper("convention", "book")),
          summary="Cui et al. (arXiv:2305.13948, later versions): DKL without the stop-gradient, "
                  "weights softmax^gamma or class-wise",
          convention={"t2": "book: yes; official: no", "detached": _DECOUPLED_DETACHED,
                      "matches": "book: GKL/IKL paper (the student learns from the wMSE); official: "
                                 "published `GKL_KD.py` (raw-logit wMSE / batch weight, CE at T)"})
def gkl_loss(student_logits: Tensor, teacher_logits: Tensor, target: Tensor | None = None, *,
             alpha: float = 1.0, beta: float = 1.0, temperature: float = 1.0, gamma: float = 1.0,
             weight_temperature: float | None = None, class_stats: ClassStats | Tensor | None = None,
             convention: str = "book", reduction: str = "batchmean", mask: Tensor | None = None,
             chunk_size: int | None = None, fused: bool = True) -> Tensor:
    r"""Generalized KL (GKL) loss of Cui et al. (arXiv:2305.13948, later versions).

    GKL changes DKL (:func:`dkl_loss`) in three ways:

    1. *breaking the asymmetry*: no stop-gradient on the student's logit differences in the
       wMSE, so with a detached teacher the student learns from the wMSE too;
    2. *smoother weights*: ``w = softmax(teacher / T_w)^γ`` (``T_w`` =
       ``weight_temperature``, default ``temperature``; ``γ`` = ``gamma``);
    3. *class-wise global weights*: with ``class_stats`` (a :class:`ClassStats` or a
       ``(C, C)`` table of per-class mean probabilities) the weights of a sample are the
       row of its ground-truth label ``target``, raised to ``γ`` (``weight_temperature`` is
       then unused: the statistics carry their own temperature).

    ``convention="book"`` (the paper's form, ``o = logits/T``, ``α`` on the wMSE):

    .. math::
        \mathcal L = T^2\Big[\frac{\alpha}{4}\sum_{j,k} S(w_j w_k)
            \big((o_{t,j}-o_{t,k}) - (o_{s,j}-o_{s,k})\big)^2
            - \beta\, S(\mathrm{softmax}(o_t))^\top \log\mathrm{softmax}(o_s)\Big]

    per row; the teacher is not detached in the wMSE (adversarial training lets both sides
    learn; detach it yourself for distillation).

    ``convention="official"`` reproduces the published ``GKL_KD.py`` so its configs
    transfer: ``alpha`` multiplies the CE and ``beta`` the wMSE (the code swaps the
    paper's names), the wMSE is on *raw* logits and is summed over the batch and divided
    by the batch's total weight ``Σ_b (Σ_j u_bj)²``, the CE is at temperature ``T``
    without ``T²``, and the whole teacher side is detached:

    .. math::
        \mathcal L = \frac{\beta}{4}\,\frac{\sum_b \sum_{j,k} u_{bj}u_{bk}
            \big((t_{bj}-t_{bk})-(s_{bj}-s_{bk})\big)^2}{\sum_b (\sum_j u_{bj})^2}
            - \frac{\alpha}{B}\sum_b \mathrm{softmax}(t_b/T)^\top \log\mathrm{softmax}(s_b/T)

    with ``u = softmax(t/T_w)^γ`` or the class row of the label raised to ``γ``. For
    ``reduction="batchmean"`` the value is exactly this; the per-row values (``"none"``)
    carry the factor ``B/Σ_b(Σ_j u_bj)²`` so that their mean is.

    :func:`ikl_loss` is this loss with ``gamma = 1`` (IKL = DKL + 1 + 3). ``fused=True``
    (default) computes the value and the analytic gradients in one sweep (first derivatives
    only); ``fused=False`` is the autograd form. Explained in the chapter ``ch-gkl``.
    """
    T, red, m, cs = checks.common(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    a, b = _checks.finite(alpha, "alpha"), _checks.finite(beta, "beta")
    g = _checks.positive(gamma, "gamma")
    Tw = T if weight_temperature is None else _checks.temperature(weight_temperature, "weight_temperature")
    if convention not in CONVENTIONS:
        _checks.choice(convention, "convention", CONVENTIONS)
    lead, C = student_logits.shape[:-1], student_logits.shape[-1]
    dev = student_logits.device
    table = None
    y = None
    if class_stats is not None:
        table = _stats_table(class_stats, C, dev)
        y = checks.target(target, lead, C, dev, m, who="gkl_loss with class_stats")
    elif target is not None:
        y = checks.target(target, lead, C, dev, m, who="gkl_loss")
    # the official convention detaches the whole teacher side (the autograd form does it inside)
    rows = select(student_logits, teacher_logits if convention == "book" or not fused
                  else teacher_logits.detach(), y, m)

    def table_weights(t: Tensor, yy: Tensor | None, ot: Tensor, p: Tensor) -> Tensor:
        # the fused kernel's weight function: GKL's weights from the raw teacher logits
        return _gkl_weights(t, yy, table, Tw, g, t.dtype)

    if convention == "book":
        def fn(s: Tensor, t: Tensor, yy: Tensor | None) -> Tensor:
            cd = compute_dtype(s, t)
            os_, ot = scaled(s, T, cd), scaled(t, T, cd)
            ls = F.log_softmax(os_, dim=-1)
            lt = F.log_softmax(ot.detach(), dim=-1)
            p = lt.exp()
            if table is None and Tw == T:  # reuse the CE's teacher log-probabilities
                w = p if g == 1.0 else (g * lt).exp()
            else:
                w = _gkl_weights(t, yy, table, Tw, g, cd)
            wm = _wmse_rows(shift_rows(ot) - shift_rows(os_), w)
            ce = -(p * ls).sum(-1)
            return (T * T) * (0.25 * a * wm + b * ce)

        if table is None and Tw == T:
            # reuse the CE's teacher probabilities: w = p^γ = exp(γ(o_t − log Z_t))
            wfn: WeightFn | None = None if g == 1.0 else (
                lambda t, yy, ot, p: torch.add(p.amax(-1, keepdim=True).log_().mul_(g), ot, alpha=g).exp_())
        else:
            wfn = table_weights
        kernel = _decoupled_kernel(T, 0.25 * a * T * T, b * T * T, 1.0, wfn, student_wm=True)
    else:
        # The batch's total weight couples the rows; it is a detached constant, so compute
        # it first (chunk by chunk) and fold it into every row.
        with torch.no_grad():
            t2, y2, n = rows.t, rows.y, rows.t.shape[0]
            step = auto_chunk(n, C, cs, dev)
            cd0 = compute_dtype(student_logits, teacher_logits)
            total = torch.zeros((), dtype=cd0, device=dev)
            for i in range(0, n, step):
                u = _gkl_weights(t2[i:i + step], None if y2 is None else y2[i:i + step], table, Tw, g, cd0)
                total += (u.sum(-1) ** 2).sum()
            scale = n / total.clamp_min(torch.finfo(cd0).tiny)

        def fn(s: Tensor, t: Tensor, yy: Tensor | None) -> Tensor:
            cd = compute_dtype(s, t)
            sf, tf = s.to(cd), t.to(cd).detach()
            u = _gkl_weights(tf, yy, table, Tw, g, cd)
            wm = _wmse_rows(shift_rows(tf) - shift_rows(sf), u)
            ls = F.log_softmax(sf if T == 1.0 else sf / T, dim=-1)
            p = F.softmax(tf if T == 1.0 else tf / T, dim=-1)
            ce = -(p * ls).sum(-1)
            return (0.25 * b) * wm * scale.to(cd) + a * ce

        # raw-logit wMSE: d = T·(o_t − o_s)
        kernel = _decoupled_kernel(T, (0.25 * b) * scale, a, T, table_weights, student_wm=True)

    if fused:
        return run_fused(kernel, rows, cs, red)
    return reduce(run_rows(fn, rows, cs), rows, red)
