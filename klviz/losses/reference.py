r"""Reference forms of the weighted MSE of DKL/IKL/GKL, for tests, the chapters and the benchmarks.

- :func:`pairwise_wmse_bruteforce`: the definition, built as an explicit ``(..., C, C)``
  tensor (O(B·C²) memory); no loss calls it.
- :func:`wmse_uncentred`, :func:`wmse_centred`, :func:`wmse_appendix_form`: other ways of
  writing it, kept to show why :func:`klviz.losses.wmse` uses the centred form on shifted
  logits (chapter ``ch-dkl``).
- :func:`wmse_cost`: time and memory of the O(C) centred form against the brute force.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from klviz import _checks
from klviz.losses.decoupled import wmse
from klviz._backend import torch_threads

__all__ = ["pairwise_wmse_bruteforce", "wmse_uncentred", "wmse_centred", "wmse_appendix_form", "wmse_cost"]


def pairwise_wmse_bruteforce(a: Tensor, b: Tensor, weights: Tensor) -> Tensor:
    r"""Reference ``Σ_jk w_j w_k ((a_j − a_k) − (b_j − b_k))²`` over the last axis, built as
    an explicit ``(..., C, C)`` tensor.

    O(B·C²) memory: for tests, the chapter and the benchmarks only; no loss calls it.
    """
    da = a.unsqueeze(-1) - a.unsqueeze(-2)
    db = b.unsqueeze(-1) - b.unsqueeze(-2)
    ww = weights.unsqueeze(-1) * weights.unsqueeze(-2)
    return (ww * (da - db) ** 2).sum((-2, -1))


def _check_pair(w: Tensor, d: Tensor) -> None:
    _checks.tensor(w, "weights")
    _checks.tensor(d, "diffs")
    if w.shape != d.shape:
        raise ValueError(f"weights and diffs must have the same shape, got {tuple(w.shape)} and {tuple(d.shape)}")


def wmse_uncentred(weights: torch.Tensor, diffs: torch.Tensor) -> torch.Tensor:
    r"""The O(C) pairwise weighted MSE, expanded without centring (numerically fragile).

    .. math:: \sum_{j,k} w_j w_k (d_j - d_k)^2 = 2 W \sum_j w_j d_j^2 - 2\Big(\sum_j w_j d_j\Big)^2,
              \qquad W = \sum_j w_j,

    reduced over the last axis.  Exact in real arithmetic, but it subtracts two numbers of
    size :math:`W^2 \bar d^2` to get one of size :math:`W \sum_j w_j (d_j-\bar d)^2`, so a large
    common offset in ``diffs`` cancels catastrophically in float32.  Chapter ``ch-dkl``
    shows it; the book's loss uses the centred form :func:`klviz.losses.wmse`.
    """
    _check_pair(weights, diffs)
    total = weights.sum(-1)
    return 2 * total * (weights * diffs**2).sum(-1) - 2 * (weights * diffs).sum(-1) ** 2


def wmse_centred(weights: torch.Tensor, diffs: torch.Tensor) -> torch.Tensor:
    r"""The centred O(C) form on given gaps ``diffs`` (no per-row shift of the logits first):

    .. math:: 2 W \sum_j w_j (d_j - \bar d)^2, \qquad \bar d = \sum_j w_j d_j / W .

    Free of cancellation, but ``diffs`` computed as ``a - b`` from large float32 logits are
    already rounded; :func:`klviz.losses.wmse` shifts ``a`` and ``b`` by their row maxima before
    forming the gaps.  Chapter ``ch-dkl`` compares the three.
    """
    _check_pair(weights, diffs)
    total = weights.sum(-1)
    mean = (weights * diffs).sum(-1, keepdim=True) / total.unsqueeze(-1)
    return 2 * total * (weights * (diffs - mean) ** 2).sum(-1)


def wmse_appendix_form(weights: torch.Tensor, diffs: torch.Tensor) -> torch.Tensor:
    r"""The memory-efficient form given in the appendix of Cui et al. (2023):

    .. math:: 2 \sum_j w_j d_j^2 - 2 \Big(\sum_j w_j d_j\Big)^2 .

    It equals :math:`\sum_{j,k} w_j w_k (d_j - d_k)^2` only when :math:`\sum_j w_j = 1`
    (true for :math:`w = s_m`, a probability vector); with powered weights
    :math:`w = s_m^\gamma`, :math:`\gamma \ne 1`, it misses the factor :math:`W = \sum_j w_j` on
    the first term.  Kept for chapter ``ch-dkl`` to show the difference.
    """
    _check_pair(weights, diffs)
    return 2 * (weights * diffs**2).sum(-1) - 2 * (weights * diffs).sum(-1) ** 2


def wmse_cost(
    sizes: Sequence[int],
    *,
    batch: int = 16,
    repeats: int = 5,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    r"""Median wall time (seconds) and peak intermediate memory (bytes) of
    :func:`klviz.losses.wmse` (O(B C)) and :func:`klviz.losses.pairwise_wmse_bruteforce`
    (O(B C^2)) for each number of classes in ``sizes``, in float32 on the CPU, one thread.

    Memory is counted analytically as the largest intermediate tensor each form builds:
    :math:`4BC` bytes for the centred form, :math:`4BC^2` for the pairwise one (the
    :math:`B\times C\times C` difference tensor).  Also returns the largest absolute
    difference of the two results, which must be at float32 rounding level.
    Chapter ``ch-dkl``.
    """
    batch = _checks.positive_int(batch, "batch")
    repeats = _checks.positive_int(repeats, "repeats")
    sizes = [_checks.positive_int(c, "sizes[i]", hint="every number of classes must be >= 1") for c in sizes]
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {k: [] for k in ("C", "time_fast", "time_brute", "mem_fast", "mem_brute", "max_diff")}
    # one thread, so the timings measure the algorithms, not thread contention on a shared CPU
    with torch_threads(1):
        _time_forms(sizes, batch, repeats, gen, out)
    return {k: np.asarray(v) for k, v in out.items()}


def _time_forms(sizes, batch, repeats, gen, out) -> None:
    for c in sizes:
        s = torch.randn(batch, c, generator=gen)
        t = torch.randn(batch, c, generator=gen)
        w = torch.softmax(t, dim=-1)
        results = {}
        for name, fn in (("fast", wmse), ("brute", pairwise_wmse_bruteforce)):
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                results[name] = fn(t, s, w)
                times.append(time.perf_counter() - start)
            out[f"time_{name}"].append(float(np.median(times)))
        out["C"].append(c)
        out["mem_fast"].append(4.0 * batch * c)
        out["mem_brute"].append(4.0 * batch * c * c)
        out["max_diff"].append(float((results["fast"] - results["brute"]).abs().max()))
