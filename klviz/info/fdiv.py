r"""Total variation, Hellinger, :math:`\chi^2`, Rényi divergences and the f-divergence family
of discrete distributions.

Every function takes a pair ``p, q`` of probability vectors on ``axis`` (numpy or torch,
validated as in :mod:`klviz.info`).  An f-divergence (Csiszár 1967; Ali & Silvey 1966) is

.. math:: D_f(p \| q) = \sum_i q_i\, f\!\left(\frac{p_i}{q_i}\right),
          \qquad f \text{ convex}, \ f(1) = 0,

with the conventions :math:`0 \cdot f(0/0) = 0` and
:math:`0 \cdot f(p/0) = p \lim_{t\to\infty} f(t)/t` (the slope of :math:`f` at infinity).
The named generators of :data:`F_GENERATORS` give KL, reverse KL, total variation,
Pearson's :math:`\chi^2`, the *squared Hellinger sum* and Jensen–Shannon:

=====================  ===============================================  ==========================================
name                   :math:`f(t)`                                     :math:`D_f(p\|q)`
=====================  ===============================================  ==========================================
``kl``                 :math:`t \log t`                                 :math:`D_{\mathrm{KL}}(p\|q)`
``reverse_kl``         :math:`-\log t`                                  :math:`D_{\mathrm{KL}}(q\|p)`
``tv``                 :math:`\tfrac12 |t - 1|`                         :func:`total_variation`
``chi2``               :math:`(t - 1)^2`                                :func:`chi2_divergence`
``squared_hellinger``  :math:`(\sqrt t - 1)^2`                          :math:`\sum_i(\sqrt{p_i}-\sqrt{q_i})^2 = 2\,`:func:`hellinger`:math:`^2`
``js``                 :math:`\tfrac12[t\log t - (t+1)\log\tfrac{t+1}2]`  :math:`D_{\mathrm{JS}}(p\|q)`
=====================  ===============================================  ==========================================

Note the Hellinger convention: :func:`hellinger` is the *distance*
:math:`\sqrt{\tfrac12\sum_i(\sqrt{p_i}-\sqrt{q_i})^2} \in [0, 1]`, while the generator
``squared_hellinger`` gives the sum without the :math:`\tfrac12`, i.e. twice its square.

Chapter ``ch-information``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from klviz import _checks as checks
from klviz.info._terms import np_errstate, ones_like, plogp_over_q, reduce_sum, scale, where
from klviz.info._validate import prepare
from klviz.info.discrete import kl_divergence

__all__ = [
    "F_GENERATORS",
    "total_variation",
    "hellinger",
    "chi2_divergence",
    "renyi_divergence",
    "f_divergence",
]

ArrayLike = Any


def _sqrt(x: Any, torch_: bool) -> Any:
    return x.sqrt() if torch_ else np.sqrt(x)


def _tlogt(t: Any, torch_: bool) -> Any:
    return plogp_over_q(t, ones_like(t, torch_), torch_)


def _neglog(t: Any, torch_: bool) -> Any:
    with np_errstate():
        return 0.0 - (t.log() if torch_ else np.log(t))


def _js(t: Any, torch_: bool) -> Any:
    # (t + 1) log((t + 1) / 2), written with the shared term so t = 0 is exact
    return 0.5 * (_tlogt(t, torch_) - plogp_over_q(t + 1.0, 2.0 * ones_like(t, torch_), torch_))


#: name -> (f(t) for t >= 0 on numpy or torch, slope at infinity lim f(t)/t); see the module
F_GENERATORS: dict[str, tuple[Callable[[Any, bool], Any], float]] = {
    "kl": (_tlogt, math.inf),
    "reverse_kl": (_neglog, 0.0),
    "tv": (lambda t, torch_: 0.5 * abs(t - 1.0), 0.5),
    "chi2": (lambda t, torch_: (t - 1.0) ** 2, math.inf),
    "squared_hellinger": (lambda t, torch_: (_sqrt(t, torch_) - 1.0) ** 2, 1.0),
    "js": (_js, 0.5 * math.log(2.0)),
}


def _pair(p: Any, q: Any, axis: Any, atol: Any, validate: bool) -> tuple[Any, Any, int, bool]:
    (pp, qq), ax, torch_ = prepare((p, q), ("p", "q"), axis, atol, validate)
    return pp, qq, ax, torch_


def total_variation(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Total variation distance, in :math:`[0, 1]`.

    .. math:: \mathrm{TV}(p, q) = \tfrac12 \sum_i |p_i - q_i| = \max_A |p(A) - q(A)|.

    Pinsker's inequality bounds it by the KL in nats: :math:`\mathrm{TV} \le \sqrt{D_{\mathrm{KL}}/2}`.
    Chapter ``ch-information``.
    """
    pp, qq, ax, torch_ = _pair(p, q, axis, atol, validate)
    return 0.5 * reduce_sum(abs(pp - qq), ax, torch_)


def hellinger(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Hellinger *distance*, in :math:`[0, 1]`.

    .. math:: H(p, q) = \sqrt{\tfrac12 \sum_i \big(\sqrt{p_i} - \sqrt{q_i}\big)^2}
              = \sqrt{1 - \sum_i \sqrt{p_i q_i}}.

    It is a metric; :math:`H^2 \le \mathrm{TV} \le \sqrt2\, H` (Le Cam's inequalities in this
    normalisation).  The f-divergence ``"squared_hellinger"`` of :func:`f_divergence` is the sum
    without the :math:`\tfrac12`, i.e. :math:`2 H^2`.  Hellinger (1909).  Chapter ``ch-information``.
    """
    pp, qq, ax, torch_ = _pair(p, q, axis, atol, validate)
    s = reduce_sum((_sqrt(pp, torch_) - _sqrt(qq, torch_)) ** 2, ax, torch_)
    return _sqrt(0.5 * s, torch_)


def chi2_divergence(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Pearson's :math:`\chi^2` divergence of ``p`` from ``q`` (divided by ``q``).

    .. math:: \chi^2(p \| q) = \sum_i \frac{(p_i - q_i)^2}{q_i} = \sum_i \frac{p_i^2}{q_i} - 1,

    with :math:`0/0 = 0` and :math:`+\infty` where :math:`q_i = 0 < p_i`.  It bounds the KL:
    :math:`D_{\mathrm{KL}}(p\|q) \le \log(1 + \chi^2(p\|q))`.  Pearson (1900).
    Chapter ``ch-information``.
    """
    pp, qq, ax, torch_ = _pair(p, q, axis, atol, validate)
    pos = qq > 0
    q_safe = where(pos, qq, ones_like(qq, torch_), torch_)
    with np_errstate():
        inside = (pp - qq) ** 2 / q_safe
        outside = where(pp > 0, math.inf * ones_like(pp, torch_), 0.0 * pp, torch_)
    return reduce_sum(where(pos, inside, outside, torch_), ax, torch_)


def _logsumexp(x: Any, ax: int, torch_: bool) -> Any:
    if torch_:
        return x.logsumexp(dim=ax)
    import scipy.special  # noqa: PLC0415 - scipy only where a numpy Rényi divergence is asked for

    with np_errstate():
        return scipy.special.logsumexp(x, axis=ax)


def renyi_divergence(
    p: ArrayLike,
    q: ArrayLike,
    alpha: float,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Rényi divergence of order ``alpha`` of ``q`` from ``p``, in log space.

    .. math:: D_\alpha(p \| q) = \frac{1}{\alpha - 1} \log \sum_i p_i^\alpha q_i^{1-\alpha},
              \qquad \alpha \in (0, 1) \cup (1, \infty),

    and its limits: :math:`D_1 = D_{\mathrm{KL}}(p\|q)` (the limit :math:`\alpha \to 1`),
    :math:`D_0 = -\log \sum_{i: p_i > 0} q_i` (:math:`\alpha \to 0^+`) and
    :math:`D_\infty = \log \max_{i: p_i > 0} p_i / q_i`.  Non-decreasing in :math:`\alpha`;
    :math:`D_{1/2} = -2\log\sum_i\sqrt{p_i q_i}` and :math:`D_2 = \log(1 + \chi^2(p\|q))`.
    Pass ``alpha=math.inf`` for the max-divergence; negative or NaN ``alpha`` is an error.
    Rényi (1961); van Erven & Harremoës (2014).  Chapter ``ch-information``.
    """
    a = checks.number(alpha, "alpha", low=0.0, allow_inf=True,
                      hint="the order of the Rényi divergence, e.g. 0.5, 1 (KL), 2 or math.inf")
    if a == 1.0:
        return kl_divergence(p, q, axis=axis, base=base, atol=atol, validate=validate)
    pp, qq, ax, torch_ = _pair(p, q, axis, atol, validate)
    pos = pp > 0
    one = ones_like(pp, torch_)
    minus_inf = -math.inf * one
    with np_errstate():
        lp = where(pos, pp, one, torch_).log() if torch_ else np.log(where(pos, pp, one, torch_))
        lq = qq.log() if torch_ else np.log(qq)
        if a == 0.0:
            return scale(0.0 - _logsumexp(where(pos, lq, minus_inf, torch_), ax, torch_), base)
        if math.isinf(a):
            ratio = where(pos, lp - lq, minus_inf, torch_)
            top = ratio.amax(dim=ax) if torch_ else np.max(ratio, axis=ax)
            return scale(top, base)
        # 0 * log 0 would be NaN at a = 1 only, handled above; -inf * (1 - a) gives the right sign
        terms = where(pos, a * lp + (1.0 - a) * lq, minus_inf, torch_)
        return scale(_logsumexp(terms, ax, torch_) / (a - 1.0), base)


def f_divergence(
    p: ArrayLike,
    q: ArrayLike,
    f: str | Callable[[Any], Any],
    *,
    slope_at_infinity: float | None = None,
    axis: int = -1,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""The f-divergence :math:`D_f(p\|q) = \sum_i q_i f(p_i / q_i)` (in nats).

    ``f`` is a name of :data:`F_GENERATORS` (``"kl"``, ``"reverse_kl"``, ``"tv"``, ``"chi2"``,
    ``"squared_hellinger"``, ``"js"``; see the module docstring for what each gives) or a
    callable ``f(t)`` on arrays of ratios :math:`t \ge 0` (numpy, or torch for tensor input),
    convex with :math:`f(1) = 0`.  Outcomes with :math:`q_i = 0 < p_i` contribute
    :math:`p_i \lim_{t\to\infty} f(t)/t`: known for the named generators; for a callable pass it
    as ``slope_at_infinity`` (``math.inf`` for KL-like generators) or a ValueError says so.
    Outcomes with :math:`p_i = 0 < q_i` contribute :math:`q_i f(0)`, so a callable must accept 0.
    Csiszár (1967); Ali & Silvey (1966).  Chapter ``ch-information``.
    """
    if isinstance(f, str):
        gen, slope = F_GENERATORS[checks.choice(f, "f", F_GENERATORS)]
    elif callable(f):
        gen, slope = (lambda t, torch_: f(t)), slope_at_infinity
        if slope is not None:
            slope = checks.number(slope, "slope_at_infinity", allow_inf=True,
                                  hint="lim f(t)/t as t -> infinity, e.g. math.inf for t log t")
    else:
        raise TypeError(f"f must be a generator name ({', '.join(F_GENERATORS)}) or a callable f(t), "
                        f"got {type(f).__name__}")
    pp, qq, ax, torch_ = _pair(p, q, axis, atol, validate)
    pos = qq > 0
    if slope is None and bool(((~pos) & (pp > 0)).any()):
        raise ValueError("q has a zero where p > 0, where a callable f needs its slope at infinity; "
                         "pass slope_at_infinity=lim f(t)/t (math.inf for t log t)")
    q_safe = where(pos, qq, ones_like(qq, torch_), torch_)
    with np_errstate():
        t = where(pos, pp / q_safe, ones_like(pp, torch_), torch_)
        inside = qq * gen(t, torch_)
        edge = 0.0 * pp if slope is None else where(pp > 0, pp * slope, 0.0 * pp, torch_)
    return reduce_sum(where(pos, inside, edge, torch_), ax, torch_)
