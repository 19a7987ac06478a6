"""Helpers of the exact proofs of :mod:`klviz.symbolic`: argument checks and simplification.

An identity holds when the simplified difference of its two sides is exactly ``0``, so
every number entering a proof must be exact (floats become rationals) and every size an int.
"""

from __future__ import annotations

from typing import Any, Sequence

import sympy as sp

from klviz import _checks as checks

__all__ = ["size", "exact_temperature", "exp_atoms_to_symbols", "simplify_zero"]


def size(n: Any, name: str = "n", minimum: int = 1) -> int:
    """``n`` as an int >= ``minimum``: the number of symbols (classes, dimensions) to create."""
    return checks.integer(n, name, low=minimum, hint=f"the number of symbols, e.g. {max(minimum, 3)}")


def exact_temperature(value: Any, name: str) -> sp.Expr:
    """A temperature as an exact sympy number (or a given symbol): floats become rationals,
    because the proofs' differences only cancel to 0 in exact arithmetic.

    A sympy expression is kept as it is unless it is known not to be positive; anything else
    must be a finite real number > 0 (:func:`klviz._checks.positive`).
    """
    hint = "a positive number (floats become exact rationals, 0.5 -> 1/2) or a positive sympy symbol"
    if isinstance(value, sp.Basic):
        T = sp.sympify(value)
        if T.is_number:
            if T.is_extended_real is False:
                raise TypeError(f"{name} must be a real number, got {value!r}; {hint}")
            checks.positive(float(T), name, hint=hint)
        elif T.is_positive is False:
            raise ValueError(f"{name} must lie in (0, inf), got {value!r} (not positive); {hint}")
        return T
    t = checks.positive(value, name, hint=hint)
    # the given Python number itself where there is one, so nsimplify sees exactly what was typed
    return sp.nsimplify(value if isinstance(value, (int, float)) else t, rational=True)


def exp_atoms_to_symbols(
    exprs: Sequence[sp.Expr], scaled: Sequence[sp.Expr], new: Sequence[sp.Symbol]
) -> list[sp.Expr]:
    """Replace exp(o_i / T) by a positive symbol: the expressions become rational functions in
    those symbols (plus log-sum-exp atoms), which ``cancel`` simplifies in milliseconds where
    ``simplify`` on exponentials takes minutes."""
    mapping = {sp.exp(s): a for s, a in zip(scaled, new)}
    return [e.subs(mapping) for e in exprs]


def simplify_zero(expr: sp.Expr) -> sp.Expr:
    """Bring to one fraction and expand the numerator: an identity gives exactly 0."""
    num, den = sp.fraction(sp.together(sp.expand(expr)))
    num = sp.expand(num)
    if num == 0:
        return sp.Integer(0)
    return sp.simplify(sp.expand_log(num / den, force=True))
