"""Tests of klviz.symbolic._exact: sizes, exact temperatures and the simplification to 0."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

from klviz.symbolic import _exact


def test_size():
    assert _exact.size(3) == 3
    assert _exact.size(np.int64(4)) == 4 and type(_exact.size(np.int64(4))) is int
    assert _exact.size(torch.tensor(2), minimum=2) == 2
    with pytest.raises(ValueError, match=r"^n must be an int in \[1, inf\], got 0"):
        _exact.size(0)
    with pytest.raises(ValueError, match=r"^d must be an int in \[2, inf\]"):
        _exact.size(1, "d", minimum=2)
    for bad in (2.0, "3", None, True, [3]):
        with pytest.raises(TypeError, match="^n must be an int"):
            _exact.size(bad)


def test_exact_temperature():
    assert _exact.exact_temperature(0.5, "T") == sp.Rational(1, 2)
    assert _exact.exact_temperature(0.1, "T") == sp.Rational(1, 10)
    assert _exact.exact_temperature(4, "T") == 4
    assert _exact.exact_temperature(np.float64(0.25), "T") == sp.Rational(1, 4)
    assert _exact.exact_temperature(sp.Rational(1, 3), "T") == sp.Rational(1, 3)
    T = sp.Symbol("T", positive=True)
    assert _exact.exact_temperature(T, "T") is T
    # a symbol of unknown sign is kept: the proof then holds for any such T
    u = sp.Symbol("u")
    assert _exact.exact_temperature(u, "T") is u
    for bad in (0, -1, float("nan"), float("inf"), sp.Integer(0), sp.oo, sp.Symbol("n", negative=True)):
        with pytest.raises(ValueError, match="^T must"):
            _exact.exact_temperature(bad, "T")
    for bad in ("1", None, True, 1j, sp.I):
        with pytest.raises(TypeError, match="^T must be a real number"):
            _exact.exact_temperature(bad, "T")


def test_simplify_zero():
    x, y = sp.symbols("x y", positive=True)
    assert _exact.simplify_zero(sp.log(x * y) - sp.log(x) - sp.log(y)) == 0
    assert _exact.simplify_zero((x**2 - y**2) / (x - y) - x - y) == 0
    assert _exact.simplify_zero(x - y) != 0


def test_exp_atoms_to_symbols():
    z = sp.Symbol("z", real=True)
    a = sp.Symbol("a", positive=True)
    (out,) = _exact.exp_atoms_to_symbols([sp.exp(z) / (1 + sp.exp(z))], [z], [a])
    assert out == a / (1 + a)
