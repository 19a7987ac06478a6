r"""Joint and conditional entropy, mutual information and conditional mutual information
of discrete random variables given as a joint probability table.

Tables have one axis per variable, in the order of the names: ``pxy[i, j] = P(X = i, Y = j)``
(rows are :math:`X`, columns :math:`Y`) and ``pxyz[i, j, k] = P(X = i, Y = j, Z = k)``.
A table is one distribution: its entries are finite, non-negative and sum to 1 (within
``atol``, see :mod:`klviz.info`).  Every measure follows the conventions of
:mod:`klviz.info`: :math:`0 \log 0 = 0`, ``base=2`` gives bits, numpy or torch in and out.

Cover & Thomas (2006), *Elements of Information Theory*, ch. 2.  Chapter ``ch-information``.
"""

from __future__ import annotations

from typing import Any

import math

import numpy as np

from klviz import _checks as checks
from klviz._backend import common
from klviz.info._terms import detached_numpy, ones_like, plogp_over_q, scale, where
from klviz.info._validate import probabilities

__all__ = [
    "joint_entropy",
    "conditional_entropy",
    "mutual_information",
    "conditional_mutual_information",
]

ArrayLike = Any


def _table(t: ArrayLike, name: str, ndim: int, atol: Any, validate: bool) -> tuple[Any, bool]:
    """``t`` as a float array with ``ndim`` axes, checked as one distribution."""
    (tt,), torch_ = common(t, names=(name,))
    if tt.ndim != ndim:
        axes = "X, Y" if ndim == 2 else "X, Y, Z"
        raise ValueError(
            f"{name} must be a {ndim}-D joint probability table (one axis per variable: "
            f"{axes}), got shape {tuple(tt.shape)}; for one variable use klviz.info.entropy"
        )
    if validate:
        tol = checks.nonnegative(atol, "atol", hint="the tolerance on the sum of the table, e.g. 1e-6")
        flat = tt.reshape(-1)
        # entries first (NaN, inf, negative: the shared messages), then the sum of the
        # whole table, which is one distribution
        probabilities(tt, name, tt.ndim - 1, math.inf, torch_)
        total = float(detached_numpy(flat, torch_).astype(np.float64).sum())
        tol = max(tol, flat.shape[0] * float(np.finfo(detached_numpy(flat[:1], torch_).dtype).eps))
        if abs(total - 1.0) > tol:
            raise ValueError(
                f"{name} must sum to 1 over the whole table (it is one joint distribution), "
                f"but it sums to {total:.6g} (tolerance {tol:.1e}); normalise it "
                f"({name} / {name}.sum())"
            )
    return tt, torch_


def _total(x: Any) -> Any:
    return x.sum()


def joint_entropy(
    pxy: ArrayLike, *, base: Any = None, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Joint entropy of the table ``pxy`` (``pxy[i, j] = P(X = i, Y = j)``).

    .. math:: H(X, Y) = -\sum_{x, y} p(x, y) \log p(x, y).

    Any number of axes is accepted as long as there are at least two (the entropy of the
    flattened table).  Cover & Thomas (2006), Eq. 2.8.  Chapter ``ch-information``.
    """
    (tt,), torch_ = common(pxy, names=("pxy",))
    if tt.ndim < 2:
        raise ValueError(
            f"pxy must be a joint table with one axis per variable (at least 2 axes), got shape "
            f"{tuple(tt.shape)}; for one variable use klviz.info.entropy"
        )
    tt, torch_ = _table(tt, "pxy", tt.ndim, atol, validate)
    flat = tt.reshape(-1)
    return scale(0.0 - _total(plogp_over_q(flat, ones_like(flat, torch_), torch_)), base)


def conditional_entropy(
    pxy: ArrayLike, *, base: Any = None, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Conditional entropy :math:`H(Y \mid X)` of the table ``pxy`` (rows are :math:`X`).

    .. math:: H(Y \mid X) = -\sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)}
              = H(X, Y) - H(X) \ge 0.

    Each term is :math:`\le 0` before the sign (:math:`p(x, y) \le p(x)`), so the result is
    non-negative without cancellation.  For :math:`H(X \mid Y)` pass ``pxy.T``.
    Cover & Thomas (2006), Eq. 2.10 and Thm. 2.2.1 (chain rule).  Chapter ``ch-information``.
    """
    tt, torch_ = _table(pxy, "pxy", 2, atol, validate)
    px = tt.sum(1)[:, None]
    return scale(0.0 - _total(plogp_over_q(tt, px, torch_)), base)


def mutual_information(
    pxy: ArrayLike, *, base: Any = None, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Mutual information of the table ``pxy``: the KL divergence of the joint from the
    product of its marginals.

    .. math:: I(X; Y) = \sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)\, p(y)}
              = D_{\mathrm{KL}}\big(p(x, y) \,\|\, p(x) p(y)\big) = H(Y) - H(Y \mid X) \ge 0.

    Symmetric in :math:`X, Y`; 0 exactly for independent variables (up to rounding, which may
    give :math:`-10^{-17}`).  Shannon (1948); Cover & Thomas (2006), Eq. 2.28.
    Chapter ``ch-information``.
    """
    tt, torch_ = _table(pxy, "pxy", 2, atol, validate)
    prod = tt.sum(1)[:, None] * tt.sum(0)[None, :]
    return scale(_total(plogp_over_q(tt, prod, torch_)), base)


def conditional_mutual_information(
    pxyz: ArrayLike, *, base: Any = None, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Conditional mutual information :math:`I(X; Y \mid Z)` of the three-way table
    ``pxyz[i, j, k] = P(X = i, Y = j, Z = k)``.

    .. math:: I(X; Y \mid Z) = \sum_{x, y, z} p(x, y, z)
              \log \frac{p(x, y, z)\, p(z)}{p(x, z)\, p(y, z)} \ge 0,

    zero exactly when :math:`X` and :math:`Y` are independent given :math:`Z` (for a Markov
    chain :math:`X \to Z \to Y`).  Cover & Thomas (2006), Eq. 2.60.  Chapter ``ch-information``.
    """
    tt, torch_ = _table(pxyz, "pxyz", 3, atol, validate)
    pxz = tt.sum(1)[:, None, :]
    pyz = tt.sum(0)[None, :, :]
    pz = tt.sum((0, 1))[None, None, :]
    # p(z) = 0 only where p(x, y, z) = 0, whose terms are masked; the guard keeps 0/0 (and its
    # NaN gradient) out of the masked entries
    pz_safe = where(pz > 0, pz, ones_like(pz, torch_), torch_)
    return scale(_total(plogp_over_q(tt, pxz * pyz / pz_safe, torch_)), base)
