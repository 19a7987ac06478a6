r"""Symbols and the measures as sympy expressions: softmax, entropy, cross-entropy, KL, JS.

The expressions use natural logarithms (nats) and fresh symbols, so a chapter can print them
(:func:`latex`), differentiate them or ``lambdify`` them and compare with :mod:`klviz.info`.
"""

from __future__ import annotations

from typing import Any, Sequence

import sympy as sp

from klviz.symbolic._exact import size

__all__ = [
    "probabilities",
    "logits",
    "softmax_expr",
    "log_softmax_expr",
    "entropy_expr",
    "cross_entropy_expr",
    "kl_expr",
    "js_expr",
    "binary_entropy_expr",
    "latex",
]


def probabilities(n: int, name: str = "p") -> list[sp.Symbol]:
    """``n`` positive symbols ``p_1 ... p_n`` (positivity lets sympy simplify logs)."""
    n = size(n)
    return list(sp.symbols(f"{name}_1:{n + 1}", positive=True))


def logits(n: int, name: str = "z") -> list[sp.Symbol]:
    """``n`` real symbols ``z_1 ... z_n`` for logits."""
    n = size(n)
    return list(sp.symbols(f"{name}_1:{n + 1}", real=True))


def softmax_expr(z: Sequence[sp.Expr], T: Any = None) -> list[sp.Expr]:
    r"""Softmax with optional temperature :math:`T`:
    :math:`\operatorname{softmax}(z/T)_i = e^{z_i/T} / \sum_j e^{z_j/T}`.

    Chapter ``ch-probability`` (Probability and softmax).
    """
    scaled = [zi if T is None else zi / T for zi in z]
    den = sum(sp.exp(zi) for zi in scaled)
    return [sp.exp(zi) / den for zi in scaled]


def log_softmax_expr(z: Sequence[sp.Expr], T: Any = None) -> list[sp.Expr]:
    r"""Log-softmax written as :math:`z_i/T - \log\sum_j e^{z_j/T}` (the form that stays
    simple under differentiation)."""
    scaled = [zi if T is None else zi / T for zi in z]
    lse = sp.log(sum(sp.exp(zi) for zi in scaled))
    return [zi - lse for zi in scaled]


def _pairs(p: Sequence[Any], q: Sequence[Any]) -> list[tuple[Any, Any]]:
    if len(p) != len(q):
        raise ValueError(f"p and q must have the same length, got {len(p)} and {len(q)}; "
                         f"build both with the same n")
    return list(zip(p, q))


def entropy_expr(p: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`H(p) = -\sum_i p_i \log p_i`.  Chapter ``ch-entropy`` (Entropy)."""
    return -sum(pi * sp.log(pi) for pi in p)


def cross_entropy_expr(p: Sequence[sp.Expr], q: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`H(p, q) = -\sum_i p_i \log q_i`.  Chapter ``ch-cross-entropy`` (Cross-entropy)."""
    return -sum(pi * sp.log(qi) for pi, qi in _pairs(p, q))


def kl_expr(p: Sequence[sp.Expr], q: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`D_{\mathrm{KL}}(p\|q) = \sum_i p_i \log(p_i / q_i)`.
    Chapter ``ch-kl`` (KL divergence)."""
    return sum(pi * sp.log(pi / qi) for pi, qi in _pairs(p, q))


def js_expr(p: Sequence[sp.Expr], q: Sequence[sp.Expr]) -> sp.Expr:
    r""":math:`D_{\mathrm{JS}}(p\|q) = \tfrac12 D_{\mathrm{KL}}(p\|m) + \tfrac12 D_{\mathrm{KL}}(q\|m)`,
    :math:`m = (p+q)/2`.  Chapter ``ch-kl`` (KL divergence)."""
    m = [(pi + qi) / 2 for pi, qi in _pairs(p, q)]
    return sp.Rational(1, 2) * kl_expr(p, m) + sp.Rational(1, 2) * kl_expr(q, m)


def binary_entropy_expr(p: Any = None) -> sp.Expr:
    r"""Binary entropy :math:`h(p) = -p\log p - (1-p)\log(1-p)` in the symbol ``p``
    (a fresh symbol on (0, 1) if not given).  Chapter ``ch-entropy`` (Entropy)."""
    if p is None:
        p = sp.Symbol("p", positive=True)
    return -p * sp.log(p) - (1 - p) * sp.log(1 - p)


def latex(expr: Any, **kwargs: Any) -> str:
    """sympy's LaTeX printer (``sympy.latex``); lists become comma-separated LaTeX."""
    if isinstance(expr, (list, tuple)):
        return ", ".join(sp.latex(e, **kwargs) for e in expr)
    return sp.latex(expr, **kwargs)
