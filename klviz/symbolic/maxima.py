r"""Maxima of the entropy, derived with sympy: the uniform distribution (a Lagrange
multiplier) and the binary entropy's maximum at 1/2."""

from __future__ import annotations

from typing import Any

import sympy as sp

from klviz.symbolic._exact import size
from klviz.symbolic.measures import binary_entropy_expr, entropy_expr, probabilities

__all__ = ["max_entropy_lagrange", "binary_entropy_maximum"]


def max_entropy_lagrange(n: int) -> dict[str, Any]:
    r"""Maximise :math:`H(p)` subject to :math:`\sum_i p_i = 1` with a Lagrange multiplier.

    .. math::
        \mathcal L(p, \lambda) = -\sum_i p_i \log p_i + \lambda\Big(\sum_i p_i - 1\Big),
        \qquad \partial_{p_i}\mathcal L = -\log p_i - 1 + \lambda = 0
        \;\Rightarrow\; p_i = e^{\lambda - 1} = \frac1n,\; H = \log n .

    Returns a dict: ``p`` (symbols), ``lam``, ``lagrangian``, ``equations`` (stationarity
    and constraint), ``solution`` (``{p_i: 1/n, lam: 1 - log n}``), ``p_star`` (list of
    values), ``entropy`` (``log n``) and ``hessian_diagonal`` (:math:`-1/p_i < 0`: a maximum).
    Chapter ``ch-entropy`` (Entropy).
    """
    n = size(n)
    p = probabilities(n)
    lam = sp.Symbol("lambda", real=True)
    H = entropy_expr(p)
    L = H + lam * (sum(p) - 1)
    stationarity = [sp.Eq(sp.diff(L, pi), 0) for pi in p]
    constraint = sp.Eq(sum(p), 1)
    # each stationarity equation gives p_i in terms of lambda; the constraint then fixes lambda
    p_of_lam = {pi: sp.solve(eq, pi)[0] for pi, eq in zip(p, stationarity)}
    lam_sol = sp.solve(constraint.subs(p_of_lam), lam)
    lam_star = sp.simplify(lam_sol[0])
    solution = {pi: sp.simplify(v.subs(lam, lam_star)) for pi, v in p_of_lam.items()}
    solution[lam] = sp.expand_log(lam_star, force=True)
    p_star = [solution[pi] for pi in p]
    return {
        "p": p,
        "lam": lam,
        "lagrangian": L,
        "equations": stationarity + [constraint],
        "solution": solution,
        "p_star": p_star,
        "entropy": sp.simplify(sp.expand_log(H.subs(solution), force=True)),
        "hessian_diagonal": [sp.diff(L, pi, 2) for pi in p],
    }


def binary_entropy_maximum() -> dict[str, Any]:
    r"""Derivative and maximum of the binary entropy.

    .. math:: h'(p) = \log\frac{1-p}{p}, \qquad h''(p) = -\frac{1}{p(1-p)} < 0,
        \qquad \arg\max h = \tfrac12,\; \max h = \log 2 .

    Returns a dict with ``p``, ``h``, ``derivative``, ``second_derivative``, ``argmax``,
    ``maximum``.  Chapter ``ch-entropy`` (Entropy).
    """
    p = sp.Symbol("p", positive=True)
    h = binary_entropy_expr(p)
    d1 = sp.simplify(sp.diff(h, p))
    d2 = sp.simplify(sp.diff(h, p, 2))
    crit = sp.solve(sp.Eq(sp.diff(h, p), 0), p)
    argmax = crit[0]
    return {
        "p": p,
        "h": h,
        "derivative": sp.logcombine(d1, force=True),
        "second_derivative": sp.factor(d2),
        "critical_points": crit,
        "argmax": argmax,
        "maximum": sp.simplify(sp.expand_log(h.subs(p, argmax), force=True)),
    }
