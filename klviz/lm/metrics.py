r"""Token-level distillation and what a language model is judged by in the chapter ``ch-lm``.

- :func:`token_distill_loss`: a registered loss of :mod:`klviz.losses` on ``(B, N, V)``
  logits with a padding mask, the mean over kept tokens of the per-position divergence
  :math:`\frac{1}{|M|}\sum_{(b,n)\in M} D\big(p_T(\cdot\mid x_{<n})\,\|\,p_S(\cdot\mid x_{<n})\big)`;
- :func:`bits_per_token`: the validation NLL in bits per token (per character for a
  character model);
- :func:`distinct_n`, :func:`mean_entropy_bits`, :func:`nll_bits_of`: the diversity of
  samples, the entropy of the model along them and another model's NLL of them.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from klviz import _checks
from klviz.losses import get_spec

__all__ = ["bits_per_token", "distinct_n", "mean_entropy_bits", "nll_bits_of", "token_distill_loss", "windows"]

_LN2 = math.log(2.0)


def token_distill_loss(student_logits: Tensor, teacher_logits: Tensor, loss: str, *,
                       mask: Tensor | None = None, reduction: str = "batchmean", **hypers: Any) -> Tensor:
    r"""The registered loss ``loss`` per token, averaged over the kept tokens (``reduction``
    ``"batchmean"``) or summed (``"sum"``), with ``mask`` ``(B, N)`` (``True`` = keep). The
    teacher is detached. ``temperature`` defaults to 1 here (the token distribution itself),
    whatever the loss's own default. ``loss="js"`` with ``beta=0`` / ``1`` is the forward /
    reverse KL (GKD, Agarwal et al. 2024). Chapter ``ch-lm``.
    """
    spec = get_spec(loss)
    if spec.needs_target:
        raise ValueError(f"loss {loss!r} needs class labels; choose a loss without a target "
                         f"(e.g. kd, js, skl, srkl, dkl, gkl)")
    if student_logits.dim() != 3:
        raise ValueError(f"student_logits must have shape (B, N, V), got {tuple(student_logits.shape)}")
    if "temperature" in spec.hyper_names():
        hypers.setdefault("temperature", 1.0)
    return spec.fn(student_logits, teacher_logits.detach(), mask=mask, reduction=reduction, **hypers)


def windows(ids: Tensor, length: int, stride: int | None = None) -> Tensor:
    """Rows ``ids[i : i + length]`` for ``i = 0, stride, 2·stride, ...`` (default stride =
    ``length``), shape ``(W, length)``. Chapter ``ch-lm``."""
    L = _checks.integer(length, "length", low=2, hint="a sequence needs an input and a next token")
    s = _checks.positive_int(stride if stride is not None else L, "stride")
    if len(ids) < L:
        raise ValueError(f"only {len(ids)} tokens, fewer than one window of length {L}; use a longer text")
    return ids.unfold(0, L, s)


@torch.no_grad()
def bits_per_token(model: nn.Module, rows: Tensor, *, batch: int = 64) -> float:
    r"""Mean :math:`-\log_2 p(x_{n+1}\mid x_{\le n})` over the ``(W, L)`` token ``rows`` (each
    row: inputs ``[:-1]``, targets ``[1:]``). Chapter ``ch-lm``."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(rows), batch):
        r = rows[i:i + batch]
        z = model(r[:, :-1]).float()
        total += float(F.cross_entropy(z.reshape(-1, z.shape[-1]), r[:, 1:].reshape(-1), reduction="sum"))
        count += r[:, 1:].numel()
    model.train(was)
    return total / count / _LN2


@torch.no_grad()
def nll_bits_of(model: nn.Module, ids: Tensor, start: int) -> float:
    r"""``model``'s mean NLL in bits of the tokens ``ids[:, start:]`` given what precedes
    them (e.g. the teacher's NLL of a student's samples after a prompt of ``start`` tokens).
    Chapter ``ch-lm``."""
    was = model.training
    model.eval()
    z = model(ids[:, :-1]).float()[:, start - 1:]
    nll = F.cross_entropy(z.reshape(-1, z.shape[-1]), ids[:, start:].reshape(-1))
    model.train(was)
    return float(nll) / _LN2


@torch.no_grad()
def mean_entropy_bits(model: nn.Module, ids: Tensor, start: int) -> float:
    r"""Mean entropy in bits of ``model``'s next-token distributions at the positions that
    predict ``ids[:, start:]``. Chapter ``ch-lm``."""
    was = model.training
    model.eval()
    lp = model(ids[:, :-1]).float()[:, start - 1:].log_softmax(-1)
    h = -(lp.exp() * lp).sum(-1).mean()
    model.train(was)
    return float(h) / _LN2


def distinct_n(seqs: Tensor, n: int = 2) -> float:
    """Distinct-n (Li et al., 2016): distinct n-grams / all n-grams, pooled over the rows
    of ``seqs`` ``(B, L)``. Chapter ``ch-lm``."""
    k = _checks.positive_int(n, "n")
    grams = [tuple(row[i:i + k]) for row in seqs.tolist() for i in range(len(row) - k + 1)]
    if not grams:
        raise ValueError(f"the sequences are shorter than n={k}; pass longer samples or a smaller n")
    return len(set(grams)) / len(grams)
