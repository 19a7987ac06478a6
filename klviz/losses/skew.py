r"""Skew KL and skew reverse KL of DistiLLM (Ko et al., ICML 2024).

Both mix the two distributions before comparing them, so the divergence stays finite and
its gradient bounded where the student puts (almost) no mass:

.. math::
    \mathrm{SKL}^{(\alpha)}(p\|q) = \mathrm{KL}\big(p \,\|\, \alpha p + (1-\alpha) q\big), \qquad
    \mathrm{SRKL}^{(\alpha)}(p\|q) = \mathrm{KL}\big(q \,\|\, (1-\alpha) p + \alpha q\big),

with ``p`` the teacher's and ``q`` the student's softmax. ``α = 0`` gives the forward
(SKL) or reverse (SRKL) KL. Written as row functions under autograd and run by
:mod:`klviz.losses._engine` (masks, chunks, reductions). Explained in the chapter ``ch-lm``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from klviz import _checks
from klviz.losses import checks
from klviz.losses._engine import RowFn, compute_dtype, reduce, run_rows, scaled, select
from klviz.losses.registry import hyper, register

__all__ = ["skew_kl_loss", "skew_reverse_kl_loss"]


def _skew_rows(skew: float, T: float, reverse: bool) -> RowFn:
    def fn(s: Tensor, t: Tensor, _y: Tensor | None) -> Tensor:
        cd = compute_dtype(s, t)
        ls = F.log_softmax(scaled(s, T, cd), dim=-1)
        lt = F.log_softmax(scaled(t, T, cd), dim=-1)
        # the distribution under the expectation (a) and the one it is mixed with (b)
        la, lb = (ls, lt) if reverse else (lt, ls)
        if skew == 0.0:
            lm = lb  # log(0) would put -inf into logaddexp's gradient
        else:
            lm = torch.logaddexp(la + math.log(skew), lb + math.log1p(-skew))
        return (la.exp() * (la - lm)).sum(-1)
    return fn


def _call(s: Tensor, t: Tensor, skew: float, temperature: float, reduction: str,
          mask: Tensor | None, chunk_size: int | None, reverse: bool) -> Tensor:
    T, red, m, cs = checks.common(s, t, temperature, reduction, mask, chunk_size)
    a = _checks.fraction(skew, "skew", open_high=True,
                         hint="the mixing weight alpha of DistiLLM, e.g. 0.1")
    rows = select(s, t, None, m)
    return reduce(run_rows(_skew_rows(a, T, reverse), rows, cs), rows, red)


@register("skl", target="none", hypers=(hyper("skew", 0.1), hyper("temperature", 1.0)),
          summary="Ko et al. (DistiLLM, ICML 2024): KL(p_T || skew p_T + (1-skew) p_S)",
          convention={"t2": "no", "detached": "nothing",
                      "matches": "DistiLLM `skewed_forward_kl` (per token, mean over kept tokens)"})
def skew_kl_loss(student_logits: Tensor, teacher_logits: Tensor, *, skew: float = 0.1,
                 temperature: float = 1.0, reduction: str = "batchmean",
                 mask: Tensor | None = None, chunk_size: int | None = None) -> Tensor:
    r"""Skew KL divergence of DistiLLM (Ko et al., ICML 2024).

    .. math::
        \mathrm{SKL}^{(\alpha)} = \sum_j p_j\big(\log p_j - \log(\alpha p_j + (1-\alpha) q_j)\big)

    with ``p = softmax(t/T)``, ``q = softmax(s/T)`` and ``α = skew`` in ``[0, 1)``. It is at
    most ``−log α`` (the mixture holds at least ``α p``), so a student that misses a
    teacher mode is not pushed by an unbounded gradient; ``α = 0`` is the forward
    ``KL(p‖q)``. No ``T²`` factor; the teacher is not detached here. Chapter ``ch-lm``.
    """
    return _call(student_logits, teacher_logits, skew, temperature, reduction, mask, chunk_size, False)


@register("srkl", target="none", hypers=(hyper("skew", 0.1), hyper("temperature", 1.0)),
          summary="Ko et al. (DistiLLM, ICML 2024): KL(p_S || skew p_S + (1-skew) p_T)",
          convention={"t2": "no", "detached": "nothing",
                      "matches": "DistiLLM `skewed_reverse_kl` (per token, mean over kept tokens)"})
def skew_reverse_kl_loss(student_logits: Tensor, teacher_logits: Tensor, *, skew: float = 0.1,
                         temperature: float = 1.0, reduction: str = "batchmean",
                         mask: Tensor | None = None, chunk_size: int | None = None) -> Tensor:
    r"""Skew reverse KL divergence of DistiLLM (Ko et al., ICML 2024).

    .. math::
        \mathrm{SRKL}^{(\alpha)} = \sum_j q_j\big(\log q_j - \log(\alpha q_j + (1-\alpha) p_j)\big)

    with ``p = softmax(t/T)``, ``q = softmax(s/T)`` and ``α = skew`` in ``[0, 1)``;
    ``α = 0`` is the reverse ``KL(q‖p)``. No ``T²`` factor. Chapter ``ch-lm``.
    """
    return _call(student_logits, teacher_logits, skew, temperature, reduction, mask, chunk_size, True)
