"""The execution engine shared by every loss: row selection, chunking, fused kernels, reductions.

A loss is written once as a function of one block of rows; this module turns it into a
loss over ``(B, C)`` or ``(B, N, C)`` logits with a mask and a reduction, in one of two ways:

- :func:`run_rows` evaluates a *row function* ``fn(s, t, y) -> (R,)`` under autograd; with
  ``chunk_size`` it goes through :class:`ChunkedRows`, which computes each chunk's gradients
  during the forward pass, so no float32 intermediate outlives its chunk.
- :func:`run_fused` evaluates a *kernel* ``k(s, t, y, gs_out, gt_out, gscale) -> (R,)``
  that writes its own analytic gradients (:class:`FusedRows`): no autograd graph at all.

:func:`select` (the flatten-and-select step: reshape to ``(R, C)``, keep the unmasked rows)
and :func:`reduce` (scatter back, reduce) are the only places that know about masks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "FUSED_CHUNK_ELEMENTS", "Rows", "RowFn", "KernelFn", "ChunkedRows", "FusedRows",
    "compute_dtype", "scaled", "select", "reduce", "run_rows", "run_fused", "auto_chunk",
    "softmax_", "rowdot",
]

#: ``fn(student_rows, teacher_rows, target_rows_or_None) -> per-row values`` (autograd form)
RowFn = Callable[[Tensor, Tensor, "Tensor | None"], Tensor]

#: ``k(s, t, y, gs_out, gt_out, gscale) -> per-row values``: computes, for a chunk of rows,
#: the values and the analytic gradients, both multiplied by ``gscale`` (the reduction's
#: factor, 1 for per-row values), and writes the gradients into ``gs_out`` / ``gt_out``
#: (views of the full gradients, in the inputs' dtype; None = not wanted). No autograd
#: graph is built.
KernelFn = Callable[[Tensor, Tensor, "Tensor | None", "Tensor | None", "Tensor | None", float], Tensor]

#: Elements per row chunk of the fused kernels on CPU (an explicit chunk_size can only
#: lower it). The kernels make ~20 cheap passes over a chunk; at 2**17 float32 values
#: (512 KiB) a chunk's four buffers stay in the CPU's L2/L3 cache, which more than pays for
#: those passes on a memory-bound CPU (see book/performance.md). Larger chunks spill to DRAM,
#: smaller ones cost Python overhead per chunk. Rows longer than this are done one at a time.
FUSED_CHUNK_ELEMENTS = 1 << 17


def compute_dtype(s: Tensor, t: Tensor) -> torch.dtype:
    """float64 if either input is float64 (so gradcheck sees exact derivatives), else float32."""
    return torch.float64 if (s.dtype == torch.float64 or t.dtype == torch.float64) else torch.float32


def shift_rows(x: Tensor) -> Tensor:
    """``x`` minus its (detached) maximum along the last axis.

    Softmaxes and the wMSE see only differences within a row, so the shift changes nothing in
    exact arithmetic; in floating point every later log-probability or gap then carries
    rounding errors of the size of ``|x − max x|``, not ``|x|`` (logits near 10⁴ in float32
    would otherwise round every gap to ~1e-3). The maximum is detached: the shift has no
    gradient to contribute.
    """
    return x - x.detach().amax(-1, keepdim=True)


def scaled(x: Tensor, T: float, cd: torch.dtype) -> Tensor:
    """``x / T`` in the compute dtype (no copy when nothing changes)."""
    x = x.to(cd)
    return x if T == 1.0 else x / T


class Rows(NamedTuple):
    """The kept rows of a call, flattened to ``(R, C)``, and what :func:`reduce` needs to undo it."""

    s: Tensor
    t: Tensor
    y: Tensor | None
    idx: Tensor | None  #: flat indices of the kept rows; None = all rows
    lead: torch.Size  #: the logits' shape without the class axis
    C: int


def select(s: Tensor, t: Tensor, y: Tensor | None, mask: Tensor | None) -> Rows:
    """Flatten ``(B, N, C)`` to ``(B·N, C)`` and keep the rows where ``mask`` is True."""
    lead, C = s.shape[:-1], s.shape[-1]
    if s.dim() != 2:  # reshape would add a view node (and its backward) even for 2-D input
        s, t = s.reshape(-1, C), t.reshape(-1, C)
        if y is not None:
            y = y.reshape(-1)
    idx = None
    if mask is not None:
        flat = mask.reshape(-1)
        if not bool(flat.all()):
            idx = flat.nonzero().squeeze(1)
            s, t = s.index_select(0, idx), t.index_select(0, idx)
            if y is not None:
                y = y.index_select(0, idx)
    return Rows(s, t, y, idx, lead, C)


def reduce(values: Tensor, rows: Rows, reduction: str) -> Tensor:
    """Per-kept-row ``values`` to the reduction (masked rows hold 0 under ``"none"``).

    ``batchmean`` divides by the number of kept rows, ``mean`` by that times ``C``; an
    all-masked batch gives 0, not 0/0.
    """
    if reduction == "none":
        if rows.idx is None:
            return values.reshape(rows.lead)
        full = values.new_zeros(rows.lead.numel())
        return full.index_copy(0, rows.idx, values).reshape(rows.lead)
    total = values.sum()
    if reduction == "sum":
        return total
    n = max(values.shape[0], 1)
    return total / n if reduction == "batchmean" else total / (n * rows.C)


class ChunkedRows(torch.autograd.Function):
    """Evaluates ``row_fn`` ``chunk_size`` rows at a time, computing each chunk's gradients
    during the forward pass so no float32 intermediate outlives its chunk."""

    @staticmethod
    def forward(ctx, row_fn: RowFn, chunk_size: int, target: Tensor | None,  # type: ignore[override]
                student: Tensor, teacher: Tensor) -> Tensor:
        need_s, need_t = ctx.needs_input_grad[3], ctx.needs_input_grad[4]
        n = student.shape[0]
        out = None
        gs = torch.empty_like(student) if need_s else None
        gt = torch.empty_like(teacher) if need_t else None
        for i in range(0, n, chunk_size):
            j = min(i + chunk_size, n)
            sc = student[i:j].detach().requires_grad_(need_s)
            tc = teacher[i:j].detach().requires_grad_(need_t)
            with torch.enable_grad():
                v = row_fn(sc, tc, None if target is None else target[i:j])
                wrt = [x for x, need in ((sc, need_s), (tc, need_t)) if need]
                grads = list(torch.autograd.grad(v.sum(), wrt, allow_unused=True)) if wrt else []
            if out is None:
                out = v.new_empty(n)
            out[i:j] = v.detach()
            for g_full, need in ((gs, need_s), (gt, need_t)):
                if need:
                    g = grads.pop(0)
                    if g is None:
                        g_full[i:j].zero_()
                    else:
                        g_full[i:j].copy_(g)
        if out is None:  # zero rows
            out = student.new_empty(0, dtype=compute_dtype(student, teacher))
        ctx.save_for_backward(gs, gt)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        gs, gt = ctx.saved_tensors
        res_s = None if gs is None else gs * grad_out.unsqueeze(-1).to(gs.dtype)
        res_t = None if gt is None else gt * grad_out.unsqueeze(-1).to(gt.dtype)
        return None, None, None, res_s, res_t


def run_rows(row_fn: RowFn, rows: Rows, chunk_size: int | None) -> Tensor:
    """Per-row values of the kept rows, under autograd (chunked when ``chunk_size`` < rows)."""
    if chunk_size is None or chunk_size >= rows.s.shape[0]:
        return row_fn(rows.s, rows.t, rows.y)
    return ChunkedRows.apply(row_fn, chunk_size, rows.y, rows.s, rows.t)


def auto_chunk(n: int, C: int, chunk_size: int | None, device: torch.device) -> int:
    """Rows per chunk of a fused kernel: cache-sized on CPU, everything at once on a GPU."""
    # GPUs have no such cache effect; one chunk is fastest there
    step = n if device.type != "cpu" else max(1, FUSED_CHUNK_ELEMENTS // max(C, 1))
    if chunk_size is not None:
        step = min(step, chunk_size)
    return max(1, min(step, n))


class FusedRows(torch.autograd.Function):
    """Runs a fused kernel chunk by chunk; backward hands over the stored gradients.

    ``apply(job, student, teacher)`` with ``job = (kernel, chunk_size, target, scale)``: one
    Python argument instead of four, since ``Function.apply`` costs about 3 µs per argument
    (a tenth of the whole loss at B = 64, C = 100).
    """

    @staticmethod
    def forward(ctx, job: tuple, student: Tensor, teacher: Tensor) -> Tensor:  # type: ignore[override]
        # scale=None: per-row values out; a float: their sum times scale (the reduction),
        # with the values and the gradients scaled inside the kernel, saving a pass in
        # backward and an operation here
        kernel, chunk_size, target, scale = job
        need_s, need_t = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        gscale = 1.0 if scale is None else scale
        n, C = student.shape
        step = n if (chunk_size is None and n * C <= FUSED_CHUNK_ELEMENTS) else \
            auto_chunk(n, C, chunk_size, student.device)
        gs = torch.empty_like(student) if need_s else None
        gt = torch.empty_like(teacher) if need_t else None
        if step >= n:
            out = kernel(student, teacher, target, gs, gt, gscale)
        else:
            out = student.new_empty(n, dtype=compute_dtype(student, teacher))
            for i in range(0, n, step):
                j = min(i + step, n)
                out[i:j] = kernel(student[i:j], teacher[i:j], None if target is None else target[i:j],
                                  None if gs is None else gs[i:j], None if gt is None else gt[i:j], gscale)
        # The gradients are intermediate tensors, not inputs or outputs, so they may live on
        # ctx directly (no saved-tensor bookkeeping).
        ctx.grads = (gs, gt)
        ctx.reduced = scale is not None
        return out if scale is None else out.sum()

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        # (once_differentiable's wrapper costs as much as a small kernel: this check is
        # what it buys, a clear error instead of silently wrong second derivatives)
        if torch.is_grad_enabled():
            raise RuntimeError("the fused losses have first derivatives only (create_graph=True "
                               "needs a second one): pass fused=False")
        gs, gt = ctx.grads
        if ctx.reduced:
            # the usual loss.backward(): a CPU scalar 1 needs no pass over the gradient
            if (grad_out.device.type == "cpu" and not torch.compiler.is_compiling()
                    and grad_out.item() == 1.0):
                return None, gs, gt
            g = grad_out
        else:
            g = grad_out.unsqueeze(-1)
        res_s = None if gs is None else gs * g.to(gs.dtype)
        res_t = None if gt is None else gt * g.to(gt.dtype)
        return None, res_s, res_t


def run_fused(kernel: KernelFn, rows: Rows, chunk_size: int | None, reduction: str) -> Tensor:
    """Runs a fused kernel on the kept rows and applies the reduction."""
    if reduction == "none":
        return reduce(FusedRows.apply((kernel, chunk_size, rows.y, None), rows.s, rows.t), rows, "none")
    n = max(rows.s.shape[0], 1)
    scale = 1.0 if reduction == "sum" else (1.0 / n if reduction == "batchmean" else 1.0 / (n * rows.C))
    return FusedRows.apply((kernel, chunk_size, rows.y, scale), rows.s, rows.t)


def softmax_(x: Tensor) -> Tensor:
    """Softmax over the last axis, in place on CPU (saves a buffer: the CPU kernel reads
    each row's maximum and sum before it writes the row; the tests compare every fused
    result with autograd, so a kernel that stopped allowing this would be caught)."""
    if x.device.type == "cpu":
        return torch.ops.aten._softmax.out(x, -1, False, out=x)
    return torch.softmax(x, -1)


def rowdot(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise dot product (``linalg.vecdot``: no (R, C) temporary; bmm is ~5x slower on CPU)."""
    return torch.linalg.vecdot(a, b)
