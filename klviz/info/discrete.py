r"""Entropy, cross-entropy, KL and Jensen-Shannon divergences of discrete distributions.

Each measure comes in two forms: from probabilities (validated, see :mod:`klviz.info`) and
``*_from_logits`` (computed in log space from :func:`klviz.info.probs.log_probs`).
:func:`binary_entropy` is the elementwise two-outcome entropy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from klviz._backend import common
from klviz.info._terms import (
    np_errstate,
    ones_like,
    p_times,
    plogp_over_q,
    plogq,
    reduce_sum,
    scale,
)
from klviz.info._validate import prepare, unit_interval
from klviz.info.probs import log_probs

__all__ = [
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "entropy_from_logits",
    "cross_entropy_from_logits",
    "kl_divergence_from_logits",
    "js_divergence_from_logits",
    "binary_entropy",
]

ArrayLike = Any  # numpy array, torch tensor, list or scalar

_LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- probabilities in
def entropy(
    p: ArrayLike, *, axis: int = -1, base: Any = None, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Shannon entropy of the distribution(s) ``p`` along ``axis``.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0.

    Shannon (1948).  Chapter ``ch-entropy`` (Entropy).  ``base=2`` gives bits.  See
    :mod:`klviz.info` for the conventions and the validation.
    """
    (pp,), ax, torch_ = prepare((p,), ("p",), axis, atol, validate)
    # 0.0 - x rather than -x: an all-certain row gives +0.0, not -0.0
    h = 0.0 - reduce_sum(plogp_over_q(pp, ones_like(pp, torch_), torch_), ax, torch_)
    return scale(h, base)


def cross_entropy(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Cross-entropy of ``q`` relative to ``p`` (``p`` is the true distribution).

    .. math:: H(p, q) = -\sum_i p_i \log q_i = H(p) + D_{\mathrm{KL}}(p \| q).

    Terms with :math:`p_i = 0` contribute 0; the result is :math:`+\infty` (no warning)
    where some :math:`q_i = 0 < p_i`.  Chapter ``ch-cross-entropy`` (Cross-entropy).
    """
    (pp, qq), ax, torch_ = prepare((p, q), ("p", "q"), axis, atol, validate)
    return scale(0.0 - reduce_sum(plogq(pp, qq, torch_), ax, torch_), base)


def kl_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Kullback-Leibler divergence of ``q`` from ``p``.

    .. math:: D_{\mathrm{KL}}(p \| q) = \sum_i p_i \log \frac{p_i}{q_i} \ge 0.

    Terms with :math:`p_i = 0` contribute 0 (even where :math:`q_i = 0`); the result is
    :math:`+\infty` (no warning is issued) where some :math:`q_i = 0 < p_i`, because ``q``
    then cannot explain an outcome ``p`` says happens.  Kullback & Leibler (1951).
    Chapter ``ch-kl`` (KL divergence).
    """
    (pp, qq), ax, torch_ = prepare((p, q), ("p", "q"), axis, atol, validate)
    return scale(reduce_sum(plogp_over_q(pp, qq, torch_), ax, torch_), base)


def js_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon divergence (symmetric, bounded).

    .. math::
        D_{\mathrm{JS}}(p \| q) = \tfrac12 D_{\mathrm{KL}}(p \| m) + \tfrac12 D_{\mathrm{KL}}(q \| m),
        \qquad m = \tfrac12 (p + q),

    so :math:`0 \le D_{\mathrm{JS}} \le \log 2` (1 bit); always finite, since
    :math:`m_i \ge p_i / 2`.  Its square root is a metric (scipy's ``jensenshannon``).  Lin (1991).
    Chapter ``ch-kl`` (KL divergence, symmetric alternatives).
    """
    (pp, qq), ax, torch_ = prepare((p, q), ("p", "q"), axis, atol, validate)
    m = 0.5 * (pp + qq)
    js = 0.5 * reduce_sum(plogp_over_q(pp, m, torch_), ax, torch_) + 0.5 * reduce_sum(
        plogp_over_q(qq, m, torch_), ax, torch_
    )
    return scale(js, base)


# ----------------------------------------------------------------------------- logits in
def _pair_log_probs(p_logits: Any, q_logits: Any, axis: Any, temperature: Any) -> tuple[list[Any], int, bool]:
    return log_probs((p_logits, q_logits), ("p_logits", "q_logits"), axis, temperature)


def entropy_from_logits(
    logits: ArrayLike, *, axis: int = -1, base: Any = None, temperature: float = 1.0
) -> Any:
    r"""Entropy of :math:`p = \operatorname{softmax}(z/T)`, computed in log space.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad \log p = z/T - \operatorname{logsumexp}(z/T).

    Finite for logits of :math:`\pm 10^4`; float16/bfloat16 give float32.
    Chapter ``ch-entropy`` (Entropy).
    """
    (lp,), ax, torch_ = log_probs((logits,), ("logits",), axis, temperature)
    return scale(0.0 - reduce_sum(p_times(lp, lp, torch_), ax, torch_), base)


def cross_entropy_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    temperature: float = 1.0,
) -> Any:
    r"""Cross-entropy :math:`H(p, q) = -\sum_i p_i \log q_i` with
    :math:`p = \operatorname{softmax}(z_p/T)`, :math:`q = \operatorname{softmax}(z_q/T)`.

    Computed in log space; float16/bfloat16 give float32.
    Chapter ``ch-cross-entropy`` (Cross-entropy).
    """
    (lp, lq), ax, torch_ = _pair_log_probs(p_logits, q_logits, axis, temperature)
    return scale(0.0 - reduce_sum(p_times(lp, lq, torch_), ax, torch_), base)


def kl_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    temperature: float = 1.0,
) -> Any:
    r"""KL divergence :math:`D_{\mathrm{KL}}(p\|q) = \sum_i p_i (\log p_i - \log q_i)` with
    :math:`p = \operatorname{softmax}(z_p/T)`, :math:`q = \operatorname{softmax}(z_q/T)`.

    This is the knowledge-distillation term of Hinton et al. (2015) with ``p`` the teacher
    and ``q`` the student (the KD loss further multiplies by :math:`T^2`, see
    :mod:`klviz.losses`).  Computed in log space; float16/bfloat16 give float32.
    Chapter ``ch-kl`` (KL divergence, and chapter ``ch-kl-practice``, KL in practice).
    """
    (lp, lq), ax, torch_ = _pair_log_probs(p_logits, q_logits, axis, temperature)
    with np_errstate():
        diff = lp - lq
    return scale(reduce_sum(p_times(lp, diff, torch_), ax, torch_), base)


def js_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    temperature: float = 1.0,
) -> Any:
    r"""Jensen-Shannon divergence of :math:`p = \operatorname{softmax}(z_p/T)` and
    :math:`q = \operatorname{softmax}(z_q/T)`, with the mixture in log space:

    .. math:: \log m = \operatorname{logaddexp}(\log p, \log q) - \log 2.

    Float16/bfloat16 give float32.  Chapter ``ch-kl`` (KL divergence, symmetric alternatives).
    """
    (lp, lq), ax, torch_ = _pair_log_probs(p_logits, q_logits, axis, temperature)
    if torch_:
        import torch  # noqa: PLC0415 - torch is only imported when a tensor was passed

        lm = torch.logaddexp(lp, lq) - _LN2
    else:
        lm = np.logaddexp(lp, lq) - _LN2
    with np_errstate():
        a = reduce_sum(p_times(lp, lp - lm, torch_), ax, torch_)
        b = reduce_sum(p_times(lq, lq - lm, torch_), ax, torch_)
    return scale(0.5 * a + 0.5 * b, base)


# ----------------------------------------------------------------------------- elementwise
def binary_entropy(p: ArrayLike, *, base: Any = None, validate: bool = True) -> Any:
    r"""Binary entropy, elementwise.

    .. math:: h(p) = -p \log p - (1 - p) \log (1 - p), \qquad h(0) = h(1) = 0,

    maximal at :math:`p = 1/2` where :math:`h = \log 2` (1 bit).
    Chapter ``ch-entropy`` (Entropy).
    With ``validate=True`` entries outside [0, 1] (or NaN) raise ValueError.
    """
    (pp,), torch_ = common(p, names=("p",))
    if validate:
        unit_interval(pp, "p", torch_, who="binary_entropy")
    one = ones_like(pp, torch_)
    h = 0.0 - (plogp_over_q(pp, one, torch_) + plogp_over_q(1.0 - pp, one, torch_))
    return scale(h, base)
