r"""Distillation losses on logits: KD, DKD, DKL, IKL/GKL and the generalized JSD.

Every loss takes ``(student_logits, teacher_logits, ...)`` of shape ``(B, C)`` (one
distribution per sample) or ``(B, N, C)`` (one distribution per token), keyword-only
hyper-parameters, an optional boolean ``mask`` of shape ``(B,)`` / ``(B, N)`` (``True`` =
keep; padded tokens get ``False``) and a ``reduction``. Inputs may be float32, float16 or
bfloat16 (computed in float32) or float64 (computed in float64, used by the gradient
checks); the result is float32 (float64 for float64 inputs). All costs are O(B·C): the
pairwise weighted MSE of DKL/IKL/GKL is evaluated in its centred O(C) form
(:func:`wmse`), never as a ``B×C×C`` tensor.

Reductions (``F.kl_div``'s meaning where they overlap):

==============  =====================================================================
``batchmean``   sum of the per-row losses / number of rows; for ``(B, N, C)`` the
                number of *unmasked tokens* (``F.kl_div`` would divide a 3-D input by
                ``B`` only: this module follows TRL's GKD trainer instead)
``sum``         sum of the per-row losses
``mean``        sum / (number of unmasked rows · C), the mean over all elements as
                ``F.kl_div(reduction="mean")`` computes it (rarely what you want)
``none``        per-row values, shape ``(B,)`` or ``(B, N)``; masked rows hold 0
==============  =====================================================================

A batch whose rows are all masked gives 0 (not NaN) for every reduction.

Conventions, compared with the code people copy hyper-parameters from
(``o = logits / T``, ``p = softmax(teacher/T)``, ``q = softmax(student/T)``, ``S`` =
stop-gradient):

=============================  ==========  ===================================  =========================================
loss                           T² factor   detached inside the loss             matches
=============================  ==========  ===================================  =========================================
``kd_loss``                    yes         nothing (the caller detaches)        torchdistill ``KDLoss`` (batchmean·T²),
                                                                                mdistiller ``kd_loss``
``dkd_loss``                   yes (both   nothing                              mdistiller ``dkd_loss`` (alpha·TCKD +
                               terms)                                           beta·NCKD, divided by the batch size)
``dkl_loss``                   yes         wMSE: the weights and the student    DKL paper Thm. 1 (α/4 · wMSE − β · CE);
                                           differences; CE: the teacher probs   gradients equal ``kd_loss``'s
``gkl_loss(convention="book")``yes         weights; teacher probs in the CE     GKL/IKL paper (student learns from wMSE)
``gkl_loss(convention=         no          the whole teacher side               published DKL/GKL code (``GKL_KD.py``):
"official")``                                                                   raw-logit wMSE / batch weight, CE at T
``js_loss``                    no          nothing                              TRL ``GKDTrainer.generalized_jsd_loss``
=============================  ==========  ===================================  =========================================

Symbols of the DKL/IKL/GKL papers (Cui et al., arXiv:2305.13948) and the names used here:
``m`` (the distribution that is imitated: teacher, or the clean input in adversarial
training) is ``teacher_logits``; ``n`` (the one that learns: student, or the adversarial
input) is ``student_logits``; the paper's ``α`` (weight of the wMSE, Theorem 1) is
``alpha`` and the paper's ``β`` (weight of the soft-label cross-entropy) is ``beta``;
``τ``/``T`` is ``temperature``; the exponent of the smoother weight function is
``gamma``; the temperature of the weights (``T2`` in the code) is ``weight_temperature``.
**The published code swaps the two weights**: it returns ``beta * loss_mse + alpha *
loss_sce``. With ``convention="official"`` this module reads ``alpha``/``beta`` the way
the code does (``alpha`` multiplies the CE, ``beta`` the wMSE), so a config's ``ALPHA``
and ``BETA`` can be copied unchanged; with ``convention="book"`` they follow the paper.

The chapter on decoupled KL explains all of this; :func:`pairwise_wmse_bruteforce` is the
``B×C×C`` reference used by tests, the chapter and the benchmarks only.

Large vocabularies: pass ``chunk_size=k`` to process ``k`` rows (tokens) at a time. The
value and the gradients of a chunk are computed together, so at most ``k·C`` float32
values exist at once and the only full-size tensors are the gradients, stored in the
input's dtype (no float32 copy of a bfloat16 ``(B·N, V)`` tensor). The chunked path
supports first derivatives only (no double backward).

Speed: ``dkl_loss``, ``gkl_loss``, ``ikl_loss`` and ``js_loss`` default to ``fused=True``,
a hand-written value-and-gradient kernel (no autograd graph; backward hands over the stored
gradient). On CPU it works through the rows in chunks of about
``FUSED_CHUNK_ELEMENTS`` (2**17) values even without ``chunk_size``, so its temporaries stay in
cache; see the Performance appendix of the book for the measurements.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "REDUCTIONS",
    "LOSSES",
    "ClassStats",
    "dkd_loss",
    "dkd_terms",
    "dkl_loss",
    "get_loss",
    "gkl_loss",
    "ikl_loss",
    "js_loss",
    "kd_loss",
    "loss_names",
    "pairwise_wmse_bruteforce",
    "wmse",
]

REDUCTIONS: tuple[str, ...] = ("batchmean", "sum", "mean", "none")
CONVENTIONS: tuple[str, ...] = ("book", "official")

RowFn = Callable[[Tensor, Tensor, "Tensor | None"], Tensor]


# --------------------------------------------------------------------------- validation
def _check_logits(student_logits: Any, teacher_logits: Any) -> None:
    for name, x in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor of logits, got dtype {x.dtype}; "
                             "convert it with .float()")
        if x.dim() not in (2, 3):
            raise ValueError(f"{name} must have shape (B, C) or (B, N, C), got shape {tuple(x.shape)}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student_logits and teacher_logits must have the same shape, got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    if student_logits.shape[-1] < 1:
        raise ValueError("the class dimension of the logits is empty")
    if student_logits.device != teacher_logits.device:
        raise ValueError(f"student_logits is on {student_logits.device} but teacher_logits is on "
                         f"{teacher_logits.device}; move both to one device")


def _check_positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {value!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _check_finite(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _check_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}; got {reduction!r}")
    return reduction


def _check_mask(mask: Any, lead: torch.Size, device: torch.device) -> Tensor | None:
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a bool torch.Tensor or None, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must have dtype torch.bool (True = keep the row), got {mask.dtype}; "
                         "pass mask.bool() or (attention_mask == 1)")
    if mask.shape != lead:
        raise ValueError(f"mask must have shape {tuple(lead)} (the logits' shape without the class "
                         f"dimension), got {tuple(mask.shape)}")
    if mask.device != device:
        raise ValueError(f"mask is on {mask.device} but the logits are on {device}")
    return mask


def _check_target(target: Any, lead: torch.Size, num_classes: int, device: torch.device,
                  mask: Tensor | None, *, who: str) -> Tensor:
    if target is None:
        raise ValueError(f"{who} needs target (the ground-truth class indices, shape {tuple(lead)})")
    if not isinstance(target, Tensor):
        raise TypeError(f"target must be a torch.Tensor of class indices, got {type(target).__name__}")
    if target.dtype.is_floating_point or target.dtype == torch.bool or target.is_complex():
        raise ValueError(f"target must hold integer class indices (dtype torch.long), got {target.dtype}; "
                         "pass target.long() (not one-hot vectors)")
    if target.shape != lead:
        raise ValueError(f"target must have shape {tuple(lead)}, got {tuple(target.shape)}")
    if target.device != device:
        raise ValueError(f"target is on {target.device} but the logits are on {device}")
    kept = target if mask is None else target[mask]
    if kept.numel() and (int(kept.min()) < 0 or int(kept.max()) >= num_classes):
        raise ValueError(f"target values must lie in [0, {num_classes - 1}] on unmasked rows, got values "
                         f"in [{int(kept.min())}, {int(kept.max())}]; mask padded rows with mask=")
    return target


def _check_chunk(chunk_size: Any) -> int | None:
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int (rows per chunk) or None, got {chunk_size!r}")
    return chunk_size


def _compute_dtype(*xs: Tensor) -> torch.dtype:
    # float64 stays float64 so that gradcheck sees exact derivatives; everything else is
    # computed in float32, whatever the input precision.
    return torch.float64 if any(x.dtype == torch.float64 for x in xs) else torch.float32


# ------------------------------------------------------------------- weighted MSE (O(C))
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
    See the chapter on decoupled KL; :func:`pairwise_wmse_bruteforce` is the reference.
    """
    for name, x in (("a", a), ("b", b), ("weights", weights)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    try:
        a, b, weights = torch.broadcast_tensors(a, b, weights)
    except RuntimeError:
        raise ValueError(f"a, b and weights must broadcast to one shape, got {tuple(a.shape)}, "
                         f"{tuple(b.shape)} and {tuple(weights.shape)}") from None
    cd = _compute_dtype(a, b, weights)
    d = _shifted(a.to(cd).movedim(dim, -1)) - _shifted(b.to(cd).movedim(dim, -1))
    return _wmse_rows(d, weights.to(cd).movedim(dim, -1))


def _shifted(x: Tensor) -> Tensor:
    """``x`` minus its (detached) maximum along the last axis.

    The wMSE depends only on differences within each vector, so a per-row shift of ``a``
    and of ``b`` changes nothing in exact arithmetic. In float32 it matters: ``a − b`` with
    ``a ≈ 10⁴`` rounds every gap to the spacing near 10⁴ (≈ 1e-3), a relative error of ~1e-4
    for gaps of size 1, while ``a − max a`` is exact for values within a factor of 2 of each
    other. The maximum is detached: the shift has no gradient to contribute.
    """
    return x - x.detach().amax(-1, keepdim=True)


def pairwise_wmse_bruteforce(a: Tensor, b: Tensor, weights: Tensor) -> Tensor:
    r"""Reference ``Σ_jk w_j w_k ((a_j − a_k) − (b_j − b_k))²`` over the last axis, built as
    an explicit ``(..., C, C)`` tensor.

    O(B·C²) memory: for tests, the chapter and the benchmarks only; no loss calls it.
    """
    da = a.unsqueeze(-1) - a.unsqueeze(-2)
    db = b.unsqueeze(-1) - b.unsqueeze(-2)
    ww = weights.unsqueeze(-1) * weights.unsqueeze(-2)
    return (ww * (da - db) ** 2).sum((-2, -1))


# ------------------------------------------------------------------ row-wise machinery
class _ChunkedRows(torch.autograd.Function):
    """Evaluates ``row_fn`` ``chunk_size`` rows at a time, computing each chunk's gradients
    during the forward pass so no float32 intermediate outlives its chunk."""

    @staticmethod
    def forward(ctx, row_fn: RowFn, chunk_size: int, target: Tensor | None,  # type: ignore[override]
                student: Tensor, teacher: Tensor) -> Tensor:
        need_s, need_t = ctx.needs_input_grad[3], ctx.needs_input_grad[4]
        rows = student.shape[0]
        out = None
        gs = torch.empty_like(student) if need_s else None
        gt = torch.empty_like(teacher) if need_t else None
        for i in range(0, rows, chunk_size):
            j = min(i + chunk_size, rows)
            sc = student[i:j].detach().requires_grad_(need_s)
            tc = teacher[i:j].detach().requires_grad_(need_t)
            yc = None if target is None else target[i:j]
            with torch.enable_grad():
                v = row_fn(sc, tc, yc)
                wrt = [x for x, need in ((sc, need_s), (tc, need_t)) if need]
                grads = torch.autograd.grad(v.sum(), wrt, allow_unused=True) if wrt else ()
            if out is None:
                out = v.new_empty(rows)
            out[i:j] = v.detach()
            k = 0
            for g_full, need, x in ((gs, need_s, sc), (gt, need_t, tc)):
                if need:
                    g = grads[k]
                    k += 1
                    if g is None:
                        g_full[i:j].zero_()
                    else:
                        g_full[i:j].copy_(g)
        if out is None:  # zero rows
            out = student.new_empty(0, dtype=_compute_dtype(student, teacher))
        ctx.save_for_backward(gs, gt)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        gs, gt = ctx.saved_tensors
        res_s = None if gs is None else gs * grad_out.unsqueeze(-1).to(gs.dtype)
        res_t = None if gt is None else gt * grad_out.unsqueeze(-1).to(gt.dtype)
        return None, None, None, res_s, res_t


def _run_rows(row_fn: RowFn, s: Tensor, t: Tensor, target: Tensor | None, idx: Tensor | None,
              chunk_size: int | None) -> Tensor:
    """Per-row values of the kept rows (``idx``) of the flattened ``(R, C)`` inputs."""
    C = s.shape[-1]
    # reshape would add a view node (and its backward) even when s is already 2-D
    s2, t2 = (s, t) if s.dim() == 2 else (s.reshape(-1, C), t.reshape(-1, C))
    y2 = None if target is None else target.reshape(-1)
    if idx is not None:
        s2, t2 = s2.index_select(0, idx), t2.index_select(0, idx)
        y2 = None if y2 is None else y2.index_select(0, idx)
    if chunk_size is None or chunk_size >= s2.shape[0]:
        return row_fn(s2, t2, y2)
    return _ChunkedRows.apply(row_fn, chunk_size, y2, s2, t2)


# A fused kernel computes, for a chunk of rows, the per-row values and writes the analytic
# gradients (already multiplied by ``gscale``) into ``gs_out`` / ``gt_out`` (views of the
# full gradients, in the inputs' dtype; None = not wanted). No autograd graph is built.
# Used by dkl/gkl/ikl (``fused=True``).
KernelFn = Callable[[Tensor, Tensor, "Tensor | None", "Tensor | None", "Tensor | None", float], Tensor]

#: Elements per row chunk of the fused kernels on CPU (an explicit chunk_size can only
#: lower it). The kernels make ~20 cheap passes over a chunk; at 2**17 float32 values
#: (512 KiB) a chunk's four buffers stay in the CPU's L2/L3 cache, which more than pays for
#: those passes on a memory-bound CPU (see book/performance.md). Larger chunks spill to DRAM,
#: smaller ones cost Python overhead per chunk. Rows longer than this are done one at a time.
FUSED_CHUNK_ELEMENTS = 1 << 17


def _auto_chunk(rows: int, C: int, chunk_size: int | None, device: torch.device) -> int:
    if device.type != "cpu":  # GPUs have no such cache effect; one chunk is fastest
        step = rows
    else:
        step = max(1, FUSED_CHUNK_ELEMENTS // max(C, 1))
    if chunk_size is not None:
        step = min(step, chunk_size)
    return max(1, min(step, rows))


class _FusedRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, kernel: KernelFn, chunk_size: int | None, target: Tensor | None,  # type: ignore[override]
                scale: float | None, student: Tensor, teacher: Tensor) -> Tensor:
        # scale=None: per-row values out; a float: their sum times scale (the reduction),
        # with the gradients pre-scaled inside the kernel, saving a pass in backward
        need_s, need_t = ctx.needs_input_grad[4], ctx.needs_input_grad[5]
        gscale = 1.0 if scale is None else scale
        rows, C = student.shape
        step = _auto_chunk(rows, C, chunk_size, student.device)
        gs = torch.empty_like(student) if need_s else None
        gt = torch.empty_like(teacher) if need_t else None
        if step >= rows:
            out = kernel(student, teacher, target, gs, gt, gscale)
        else:
            out = student.new_empty(rows, dtype=_compute_dtype(student, teacher))
            for i in range(0, rows, step):
                j = min(i + step, rows)
                out[i:j] = kernel(student[i:j], teacher[i:j], None if target is None else target[i:j],
                                  None if gs is None else gs[i:j], None if gt is None else gt[i:j], gscale)
        # The gradients are intermediate tensors, not inputs or outputs, so they may live on
        # ctx directly (no saved-tensor bookkeeping).
        ctx.grads = (gs, gt)
        ctx.reduced = scale is not None
        return out if scale is None else out.sum() * scale

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        gs, gt = ctx.grads
        if ctx.reduced:
            # the usual loss.backward(): a CPU scalar 1 needs no pass over the gradient
            if (grad_out.device.type == "cpu" and not torch.compiler.is_compiling()
                    and grad_out.item() == 1.0):
                return None, None, None, None, gs, gt
            g = grad_out
        else:
            g = grad_out.unsqueeze(-1)
        res_s = None if gs is None else gs * g.to(gs.dtype)
        res_t = None if gt is None else gt * g.to(gt.dtype)
        return None, None, None, None, res_s, res_t


def _softmax_(x: Tensor) -> Tensor:
    """Softmax over the last axis, in place on CPU (saves a buffer: the CPU kernel reads
    each row's maximum and sum before it writes the row; the tests compare every fused
    result with autograd, so a kernel that stopped allowing this would be caught)."""
    if x.device.type == "cpu":
        return torch.ops.aten._softmax.out(x, -1, False, out=x)
    return torch.softmax(x, -1)


def _rowdot(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise dot product (``linalg.vecdot``: no (R, C) temporary; bmm is ~5x slower on CPU)."""
    return torch.linalg.vecdot(a, b)


def _run_fused(kernel: KernelFn, s: Tensor, t: Tensor, target: Tensor | None, idx: Tensor | None,
               chunk_size: int | None, reduction: str) -> Tensor:
    """Runs a fused kernel on the kept rows and applies the reduction."""
    lead, C = s.shape[:-1], s.shape[-1]
    # reshape would add a view node (and its backward) even when s is already 2-D
    s2, t2 = (s, t) if s.dim() == 2 else (s.reshape(-1, C), t.reshape(-1, C))
    y2 = None if target is None else target.reshape(-1)
    if idx is not None:
        s2, t2 = s2.index_select(0, idx), t2.index_select(0, idx)
        y2 = None if y2 is None else y2.index_select(0, idx)
    if reduction == "none":
        return _reduce(_FusedRows.apply(kernel, chunk_size, y2, None, s2, t2), idx, lead, C, "none")
    rows = max(s2.shape[0], 1)
    scale = {"sum": 1.0, "batchmean": 1.0 / rows, "mean": 1.0 / (rows * C)}[reduction]
    return _FusedRows.apply(kernel, chunk_size, y2, scale, s2, t2)


WeightFn = Callable[[Tensor, "Tensor | None", Tensor, Tensor], Tensor]


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
    CE's teacher side detached. ``log q`` is never formed: ``−Σ p log q = log Z_s − Σ p o_s``
    with ``log Z_s = −log max_j q_j`` (the maximum of ``o_s`` is 0). Buffers are reused, so
    a chunk holds three temporaries of its size besides the gradient it writes.
    """
    wscale = 2.0 * dscale * dscale
    gcoef = 4.0 * dscale * dscale / T
    inv = 1.0 / T
    # Per-row (R,)-sized operations cost as much Python/dispatch time as a pass over a
    # small chunk, so their number is kept low: Σp = 1 is used exactly (no P, W for w = p).

    def k(s: Tensor, t: Tensor, y: Tensor | None, gs_out: Tensor | None, gt_out: Tensor | None,
          gscale: float) -> Tensor:
        cd = _compute_dtype(s, t)
        if s.dtype != cd:
            s = s.to(cd)
        if t.dtype != cd:
            t = t.to(cd)
        # subtract the row maximum before dividing by T: x − max is exact for logits near
        # each other (1e4 + small), x/T − max/T would round at the size of 1e4/T
        os_ = s - s.amax(-1, keepdim=True)
        ot = t - t.amax(-1, keepdim=True)
        if T != 1.0:
            os_.mul_(inv)
            ot.mul_(inv)
        d = ot - os_  # o_t − o_s up to a per-row shift, which the wMSE ignores
        if weight_fn is None:
            p = w = _softmax_(ot)  # ot is not needed any more
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
        q = _softmax_(os_)  # os_ is not needed any more
        nce.add_(q.amax(-1).log_())
        dbar = torch.mul(w, d, out=scratch).sum(-1)
        if W is not None:
            dbar.div_(W.clamp_min(torch.finfo(cd).tiny))
        c = d.sub_(dbar.unsqueeze(-1))  # centred: no cancellation of large sums in float32
        wc = torch.mul(w, c, out=scratch)
        val = c.mul_(wc).sum(-1)  # Σ w c²; c is not needed any more
        if W is not None:
            val.mul_(W)
        val.mul_(wscale * wm_coef).sub_(nce, alpha=ce_coef)
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


def _kept_index(mask: Tensor | None) -> Tensor | None:
    if mask is None:
        return None
    flat = mask.reshape(-1)
    if bool(flat.all()):
        return None
    return flat.nonzero().squeeze(1)


def _reduce(values: Tensor, idx: Tensor | None, lead: torch.Size, num_classes: int,
            reduction: str) -> Tensor:
    if reduction == "none":
        if idx is None:
            return values.reshape(lead)
        full = values.new_zeros(lead.numel())
        return full.index_copy(0, idx, values).reshape(lead)
    total = values.sum()
    if reduction == "sum":
        return total
    rows = max(values.shape[0], 1)  # an all-masked batch gives 0, not 0/0
    if reduction == "batchmean":
        return total / rows
    return total / (rows * num_classes)


def _prepare(student_logits: Tensor, teacher_logits: Tensor, temperature: Any, reduction: Any,
             mask: Any, chunk_size: Any) -> tuple[float, str, Tensor | None, int | None]:
    _check_logits(student_logits, teacher_logits)
    T = _check_positive("temperature", temperature)
    red = _check_reduction(reduction)
    m = _check_mask(mask, student_logits.shape[:-1], student_logits.device)
    return T, red, m, _check_chunk(chunk_size)


def _scaled(x: Tensor, T: float, cd: torch.dtype) -> Tensor:
    x = x.to(cd)
    return x if T == 1.0 else x / T


# ------------------------------------------------------------------------------ KD
def _kd_rows(T: float) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = _compute_dtype(s, t)
        ls = F.log_softmax(_scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(_scaled(t, T, cd), dim=-1)
        return (lt.exp() * (lt - ls)).sum(-1) * (T * T)
    return fn


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
    ``kd_loss``). Explained in the chapter on knowledge distillation.
    """
    T, red, m, cs = _prepare(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    idx = _kept_index(m)
    v = _run_rows(_kd_rows(T), student_logits, teacher_logits, None, idx, cs)
    return _reduce(v, idx, student_logits.shape[:-1], student_logits.shape[-1], red)


# ----------------------------------------------------------------------------- DKD
def _dkd_parts(s: Tensor, t: Tensor, y: Tensor, T: float) -> tuple[Tensor, Tensor, Tensor]:
    cd = _compute_dtype(s, t)
    os_, ot = _scaled(s, T, cd), _scaled(t, T, cd)
    yy = y.unsqueeze(-1)
    # Remove the target class with a huge *finite* logit: -inf would give 0·inf = NaN in
    # the non-target KL and in its gradient.
    low = torch.finfo(cd).min
    os_nt = os_.scatter(-1, yy, low)
    ot_nt = ot.scatter(-1, yy, low)
    lse_s, lse_t = torch.logsumexp(os_, -1), torch.logsumexp(ot, -1)
    lse_s_nt, lse_t_nt = torch.logsumexp(os_nt, -1), torch.logsumexp(ot_nt, -1)
    # binary (target, rest) distributions in log space: log b = [log p_y, log(1 - p_y)]
    lbt = torch.stack((ot.gather(-1, yy).squeeze(-1) - lse_t, lse_t_nt - lse_t), -1)
    lbs = torch.stack((os_.gather(-1, yy).squeeze(-1) - lse_s, lse_s_nt - lse_s), -1)
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
    identity holds with :func:`kd_loss` ``(reduction="none")``. Computed in log space, so a
    teacher that is certain of the target class gives finite values.
    """
    _check_logits(student_logits, teacher_logits)
    T = _check_positive("temperature", temperature)
    lead, C = student_logits.shape[:-1], student_logits.shape[-1]
    m = _check_mask(mask, lead, student_logits.device)
    if C < 2:
        raise ValueError("DKD needs at least 2 classes (a target and a non-target part)")
    y = _check_target(target, lead, C, student_logits.device, m, who="dkd_terms")
    idx = _kept_index(m)
    s2, t2, y2 = student_logits.reshape(-1, C), teacher_logits.reshape(-1, C), y.reshape(-1)
    if idx is not None:
        s2, t2, y2 = s2.index_select(0, idx), t2.index_select(0, idx), y2.index_select(0, idx)
    parts = _dkd_parts(s2, t2, y2, T)
    return tuple(_reduce(v, idx, lead, C, "none") for v in parts)  # type: ignore[return-value]


def dkd_loss(student_logits: Tensor, teacher_logits: Tensor, target: Tensor, *, alpha: float = 1.0,
             beta: float = 8.0, temperature: float = 4.0, reduction: str = "batchmean",
             mask: Tensor | None = None, chunk_size: int | None = None) -> Tensor:
    r"""Decoupled knowledge distillation (Zhao et al., CVPR 2022).

    .. math:: \mathcal L_{DKD} = \alpha\,\mathrm{TCKD} + \beta\,\mathrm{NCKD}

    with both terms scaled by ``T²`` as in mdistiller (see :func:`dkd_terms`). With
    ``alpha=1`` and ``beta = 1 − p^t_y`` per row it would equal :func:`kd_loss`; DKD
    decouples that weight so the non-target knowledge is not suppressed when the teacher is
    confident. The teacher is not detached here. Explained in the chapter on KD variants.
    """
    T, red, m, cs = _prepare(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    a, b = _check_finite("alpha", alpha), _check_finite("beta", beta)
    lead, C = student_logits.shape[:-1], student_logits.shape[-1]
    if C < 2:
        raise ValueError("DKD needs at least 2 classes (a target and a non-target part)")
    y = _check_target(target, lead, C, student_logits.device, m, who="dkd_loss")

    def fn(s: Tensor, t: Tensor, yy: Tensor | None) -> Tensor:
        tckd, nckd, _ = _dkd_parts(s, t, yy, T)  # type: ignore[arg-type]
        return a * tckd + b * nckd

    idx = _kept_index(m)
    v = _run_rows(fn, student_logits, teacher_logits, y, idx, cs)
    return _reduce(v, idx, lead, C, red)


# ----------------------------------------------------------------------------- DKL
def _dkl_rows(T: float, a: float, b: float) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = _compute_dtype(s, t)
        os_, ot = _scaled(s, T, cd), _scaled(t, T, cd)
        ls = F.log_softmax(os_, dim=-1)
        w = F.softmax(ot.detach(), dim=-1)
        # wMSE: gradient reaches the teacher (m) only; CE: the student (n) only (Theorem 1)
        wm = _wmse_rows(_shifted(ot) - _shifted(os_.detach()), w)
        ce = -(w * ls).sum(-1)
        return (T * T) * (0.25 * a * wm + b * ce)
    return fn


def _dkl_kernel(T: float, a: float, b: float) -> KernelFn:
    # wMSE: gradient reaches the teacher (m) only; CE: the student (n) only (Theorem 1)
    return _decoupled_kernel(T, 0.25 * a * T * T, b * T * T, 1.0, None, student_wm=False)


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
    (supports double backward). Explained in the chapter on decoupled KL.
    """
    T, red, m, cs = _prepare(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    a, b = _check_finite("alpha", alpha), _check_finite("beta", beta)
    idx = _kept_index(m)
    if fused:
        return _run_fused(_dkl_kernel(T, a, b), student_logits, teacher_logits, None, idx, cs, red)
    else:
        v = _run_rows(_dkl_rows(T, a, b), student_logits, teacher_logits, None, idx, cs)
    return _reduce(v, idx, student_logits.shape[:-1], student_logits.shape[-1], red)


# -------------------------------------------------------------------- class statistics
class ClassStats(nn.Module):
    r"""Per-class mean of the teacher's softmax, indexed by ground-truth label (IKL/GKL).

    During an epoch :meth:`update` accumulates, for each class ``c``, the sum of
    ``softmax(teacher/temperature)`` over the samples labelled ``c`` and their count.
    :meth:`end_epoch` all-reduces these sums over the process group (when
    ``torch.distributed`` is initialised), publishes ``means[c] = sum_c / count_c`` and
    resets the accumulators. :meth:`weights` returns the published rows, which stay fixed
    during the next epoch; before the first :meth:`end_epoch` every row is uniform
    (``1/C``), as in the published code. A class with no sample in an epoch gets a uniform
    row. Everything lives in buffers, so ``state_dict``/``load_state_dict`` restore it
    (``temperature`` is a constructor argument, not state).
    """

    sums: Tensor
    counts: Tensor
    means: Tensor
    epochs: Tensor

    def __init__(self, num_classes: int, *, temperature: float = 1.0) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        self.num_classes = num_classes
        self.temperature = _check_positive("temperature", temperature)
        # float64 accumulators: an epoch of ImageNet adds ~1e6 rows per class sum
        self.register_buffer("sums", torch.zeros(num_classes, num_classes, dtype=torch.float64))
        self.register_buffer("counts", torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer("means", torch.full((num_classes, num_classes), 1.0 / num_classes))
        self.register_buffer("epochs", torch.zeros((), dtype=torch.long))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, temperature={self.temperature}"

    @torch.no_grad()
    def update(self, teacher_logits: Tensor, target: Tensor, *, mask: Tensor | None = None) -> None:
        """Add ``softmax(teacher_logits / temperature)`` of each (unmasked) row to its label's sum."""
        if not isinstance(teacher_logits, Tensor) or not teacher_logits.is_floating_point():
            raise TypeError("teacher_logits must be a floating-point torch.Tensor")
        if teacher_logits.shape[-1] != self.num_classes:
            raise ValueError(f"teacher_logits has {teacher_logits.shape[-1]} classes, ClassStats was "
                             f"built for {self.num_classes}")
        lead = teacher_logits.shape[:-1]
        m = _check_mask(mask, lead, teacher_logits.device)
        y = _check_target(target, lead, self.num_classes, teacher_logits.device, m, who="ClassStats.update")
        p = F.softmax(teacher_logits.reshape(-1, self.num_classes).float() / self.temperature, dim=-1)
        y = y.reshape(-1)
        if m is not None:
            keep = m.reshape(-1)
            p, y = p[keep], y[keep]
        dev = self.sums.device
        self.sums.index_add_(0, y.to(dev), p.to(dev, torch.float64))
        self.counts.index_add_(0, y.to(dev), torch.ones(y.shape[0], dtype=torch.float64, device=dev))

    @torch.no_grad()
    def end_epoch(self) -> None:
        """All-reduce the epoch's sums and counts, publish the means, reset the accumulators."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(self.sums, op=dist.ReduceOp.SUM)
            dist.all_reduce(self.counts, op=dist.ReduceOp.SUM)
        seen = self.counts > 0
        means = self.sums / self.counts.clamp_min(1.0).unsqueeze(-1)
        uniform = torch.full_like(means, 1.0 / self.num_classes)
        self.means.copy_(torch.where(seen.unsqueeze(-1), means, uniform))
        self.sums.zero_()
        self.counts.zero_()
        self.epochs += 1

    def weights(self, target: Tensor) -> Tensor:
        """The published rows for each label: shape ``target.shape + (C,)``."""
        if not isinstance(target, Tensor) or target.dtype.is_floating_point or target.dtype == torch.bool:
            raise ValueError("target must be an integer tensor of class indices")
        return self.means[target.to(self.means.device)]


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


# ------------------------------------------------------------------------- IKL / GKL
def _gkl_weights(t: Tensor, y: Tensor | None, table: Tensor | None, Tw: float, gamma: float,
                 cd: torch.dtype) -> Tensor:
    """Detached wMSE weights: ``softmax(t/T_w)^γ`` or ``table[y]^γ``."""
    if table is not None:
        rows = table.to(cd)[y].clamp_min(0.0)
        return rows if gamma == 1.0 else rows.pow(gamma)
    lw = F.log_softmax(_scaled(t.detach(), Tw, cd), dim=-1)
    # exp(γ·log p) rather than p**γ: no underflow to 0 before the power
    return lw.exp() if gamma == 1.0 else (gamma * lw).exp()


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
    only); ``fused=False`` is the autograd form. Explained in the chapter on decoupled KL.
    """
    T, red, m, cs = _prepare(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    a, b = _check_finite("alpha", alpha), _check_finite("beta", beta)
    g = _check_positive("gamma", gamma)
    Tw = T if weight_temperature is None else _check_positive("weight_temperature", weight_temperature)
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(map(repr, CONVENTIONS))}; got {convention!r}")
    lead, C = student_logits.shape[:-1], student_logits.shape[-1]
    dev = student_logits.device
    table = None
    y = None
    if class_stats is not None:
        table = _stats_table(class_stats, C, dev)
        y = _check_target(target, lead, C, dev, m, who="gkl_loss with class_stats")
    elif target is not None:
        y = _check_target(target, lead, C, dev, m, who="gkl_loss")
    idx = _kept_index(m)

    if convention == "book":
        def fn(s: Tensor, t: Tensor, yy: Tensor | None) -> Tensor:
            cd = _compute_dtype(s, t)
            os_, ot = _scaled(s, T, cd), _scaled(t, T, cd)
            ls = F.log_softmax(os_, dim=-1)
            lt = F.log_softmax(ot.detach(), dim=-1)
            p = lt.exp()
            if table is None and Tw == T:  # reuse the CE's teacher log-probabilities
                w = p if g == 1.0 else (g * lt).exp()
            else:
                w = _gkl_weights(t, yy, table, Tw, g, cd)
            wm = _wmse_rows(_shifted(ot) - _shifted(os_), w)
            ce = -(p * ls).sum(-1)
            return (T * T) * (0.25 * a * wm + b * ce)

        if table is None and Tw == T:
            # reuse the CE's teacher probabilities: w = p^γ = exp(γ(o_t − log Z_t))
            wfn: WeightFn | None = None if g == 1.0 else (
                lambda t, yy, ot, p: torch.add(p.amax(-1, keepdim=True).log_().mul_(g), ot, alpha=g).exp_())
        else:
            def wfn(t: Tensor, yy: Tensor | None, ot: Tensor, p: Tensor) -> Tensor:
                return _gkl_weights(t, yy, table, Tw, g, t.dtype)
        kernel = _decoupled_kernel(T, 0.25 * a * T * T, b * T * T, 1.0, wfn, student_wm=True)
    else:
        # The batch's total weight couples the rows; it is a detached constant, so compute
        # it first (chunk by chunk) and fold it into every row.
        with torch.no_grad():
            t2 = teacher_logits.reshape(-1, C)
            y2 = None if y is None else y.reshape(-1)
            if idx is not None:
                t2 = t2.index_select(0, idx)
                y2 = None if y2 is None else y2.index_select(0, idx)
            rows = t2.shape[0]
            step = _auto_chunk(rows, C, cs, dev)
            cd0 = _compute_dtype(student_logits, teacher_logits)
            total = torch.zeros((), dtype=cd0, device=dev)
            for i in range(0, rows, step):
                u = _gkl_weights(t2[i:i + step], None if y2 is None else y2[i:i + step], table, Tw, g, cd0)
                total += (u.sum(-1) ** 2).sum()
            scale = rows / total.clamp_min(torch.finfo(cd0).tiny)

        def fn(s: Tensor, t: Tensor, yy: Tensor | None) -> Tensor:
            cd = _compute_dtype(s, t)
            sf, tf = s.to(cd), t.to(cd).detach()
            u = _gkl_weights(tf, yy, table, Tw, g, cd)
            wm = _wmse_rows(_shifted(tf) - _shifted(sf), u)
            ls = F.log_softmax(sf if T == 1.0 else sf / T, dim=-1)
            p = F.softmax(tf if T == 1.0 else tf / T, dim=-1)
            ce = -(p * ls).sum(-1)
            return (0.25 * b) * wm * scale.to(cd) + a * ce

        def wfn_official(t: Tensor, yy: Tensor | None, ot: Tensor, p: Tensor) -> Tensor:
            return _gkl_weights(t, yy, table, Tw, g, t.dtype)
        # raw-logit wMSE: d = T·(o_t − o_s)
        kernel = _decoupled_kernel(T, (0.25 * b) * scale, a, T, wfn_official, student_wm=True)

    if fused:
        # the official convention detaches the whole teacher side
        t_in = teacher_logits if convention == "book" else teacher_logits.detach()
        return _run_fused(kernel, student_logits, t_in, y, idx, cs, red)
    else:
        v = _run_rows(fn, student_logits, teacher_logits, y, idx, cs)
    return _reduce(v, idx, lead, C, red)


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


# ------------------------------------------------------------------------------ JSD
def _js_rows(beta: float, T: float) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = _compute_dtype(s, t)
        ls = F.log_softmax(_scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(_scaled(t, T, cd), dim=-1)
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
        cd = _compute_dtype(s, t)
        ls = F.log_softmax(_scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(_scaled(t, T, cd), dim=-1)
        q = ls.exp()
        p = lt.exp()
        if beta == 0.0 or beta == 1.0:
            # forward KL(p‖q) (β = 0) or reverse KL(q‖p) (β = 1): a = the distribution
            # the expectation is under, with log-ratio r = log a − log b
            la, a_, b_ = (lt, p, q) if beta == 0.0 else (ls, q, p)
            r = la.sub_(ls if beta == 0.0 else lt)
            val = _rowdot(a_, r)
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
            return val
        # log m, clamped so that m = 0 (both probabilities underflowed) gives 0·finite
        lm = torch.lerp(q, p, beta).clamp_min_(torch.finfo(cd).tiny).log_()
        gS = ls.sub_(lm)
        gT = lt.sub_(lm)
        ks = _rowdot(q, gS)
        kt = _rowdot(p, gT)
        if gs_out is not None:
            torch.mul(gS.sub_(ks.unsqueeze(-1)), q, out=gs_out).mul_((1.0 - beta) * inv * gscale)
        if gt_out is not None:
            torch.mul(gT.sub_(kt.unsqueeze(-1)), p, out=gt_out).mul_(beta * inv * gscale)
        return kt.mul_(beta).add_(ks, alpha=1.0 - beta)

    return k


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
    the chapter on divergences for LLM distillation.
    """
    T, red, m, cs = _prepare(student_logits, teacher_logits, temperature, reduction, mask, chunk_size)
    bb = _check_finite("beta", beta)
    if not 0.0 <= bb <= 1.0:
        raise ValueError(f"beta must lie in [0, 1] (the teacher's weight in the mixture), got {beta!r}")
    idx = _kept_index(m)
    if fused:
        return _run_fused(_js_kernel(bb, T), student_logits, teacher_logits, None, idx, cs, red)
    v = _run_rows(_js_rows(bb, T), student_logits, teacher_logits, None, idx, cs)
    return _reduce(v, idx, student_logits.shape[:-1], student_logits.shape[-1], red)


# -------------------------------------------------------------------------- registry
LOSSES: dict[str, Callable[..., Tensor]] = {
    "kd": kd_loss,
    "dkd": dkd_loss,
    "dkl": dkl_loss,
    "ikl": ikl_loss,
    "gkl": gkl_loss,
    "js": js_loss,
}

#: losses whose third positional argument is the ground-truth ``target``
NEEDS_TARGET: frozenset[str] = frozenset({"dkd"})


def loss_names() -> list[str]:
    """The names accepted by :func:`get_loss` (keys of :data:`LOSSES`)."""
    return list(LOSSES)


def get_loss(name: str) -> Callable[..., Tensor]:
    """The loss called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(loss_names())}") from None
