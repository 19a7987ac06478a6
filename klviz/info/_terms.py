r"""Elementwise terms and reductions shared by the measures of :mod:`klviz.info`.

One spelling for numpy and torch (``torch_`` says which computes), and the conventions of
the book written once: :math:`0 \log 0 = 0`, :math:`0 \log(0/q) = 0`, and
:math:`p \log(p/0) = +\infty` for :math:`p > 0`.  The ``where`` guards also keep gradients
finite at :math:`p = 0` (no 0/0 in the backward pass).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from klviz import _checks as checks

__all__ = [
    "np_errstate",
    "reduce_sum",
    "where",
    "log",
    "ones_like",
    "scale",
    "detached_numpy",
    "plogp_over_q",
    "plogq",
    "p_times",
]


def np_errstate() -> Any:
    """numpy's error state for the measures: log(0) = -inf and 0 * inf are intended here,
    the masks of the callers give the conventions."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def reduce_sum(x: Any, axis: int | None, torch_: bool) -> Any:
    """Sum over ``axis`` (``None``: no reduction)."""
    if axis is None:
        return x
    return x.sum(dim=axis) if torch_ else np.sum(x, axis=axis)


def where(cond: Any, a: Any, b: Any, torch_: bool) -> Any:
    if torch_:
        import torch  # noqa: PLC0415 - torch is only imported when a tensor was passed

        return torch.where(cond, a, b)
    return np.where(cond, a, b)


def log(x: Any, torch_: bool) -> Any:
    if torch_:
        return x.log()
    with np_errstate():
        return np.log(x)


def ones_like(x: Any, torch_: bool) -> Any:
    if torch_:
        import torch  # noqa: PLC0415

        return torch.ones_like(x)
    return np.ones_like(x)


def scale(value: Any, base: Any) -> Any:
    """A value in nats expressed in ``base`` (see :func:`klviz._checks.log_base`)."""
    lb = checks.log_base(base)
    return value if lb == 1.0 else value / lb


def detached_numpy(x: Any, torch_: bool) -> np.ndarray:
    """The values of ``x`` as numpy, outside any autograd graph (for checks and messages)."""
    if torch_:
        return x.detach().cpu().numpy()
    return np.asarray(x)


def plogp_over_q(p: Any, q: Any, torch_: bool) -> Any:
    """Elementwise p * log(p / q) with 0 log(0/q) = 0 and +inf where q = 0 < p."""
    pos = p > 0
    one = ones_like(p, torch_)
    p_safe = where(pos, p, one, torch_)
    q_safe = where(pos, q, one, torch_)
    with np_errstate():
        term = p * (log(p_safe, torch_) - log(q_safe, torch_))
    return where(pos, term, 0.0 * p if torch_ else 0.0, torch_)


def plogq(p: Any, q: Any, torch_: bool) -> Any:
    """Elementwise p * log q with 0 log q = 0 (even for q = 0), -inf where q = 0 < p."""
    pos = p > 0
    q_safe = where(pos, q, ones_like(q, torch_), torch_)
    with np_errstate():
        term = p * log(q_safe, torch_)
    return where(pos, term, 0.0 * p if torch_ else 0.0, torch_)


def p_times(logp: Any, x: Any, torch_: bool) -> Any:
    """exp(logp) * x, with 0 wherever the probability underflows to 0 (no 0 * inf = NaN)."""
    p = logp.exp() if torch_ else np.exp(logp)
    pos = p > 0
    x_safe = where(pos, x, 0.0 * x if torch_ else 0.0, torch_)
    with np_errstate():
        return p * x_safe
