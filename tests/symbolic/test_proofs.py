"""Tests of klviz.symbolic.proofs: each proof simplifies to 0, and the gradients agree
numerically with torch autograd of klviz.info (an independent computation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

from klviz import info
from klviz import symbolic as S


# ----------------------------------------------------------------------------- DKL == KL
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_dkl_gradient_equivalence(n):
    res = S.prove_dkl_gradient_equivalence(n)
    assert res["holds"] is True
    assert res["student_residuals"] == [0] * n
    assert res["teacher_residuals"] == [0] * n
    assert all(r == 0 for r in res["closed_form_residuals"])


@pytest.mark.parametrize("n,temperature", [(2, True), (3, 2), (2, sp.Rational(1, 3)), (3, 0.5)])
def test_dkl_gradient_equivalence_with_temperature(n, temperature):
    res = S.prove_dkl_gradient_equivalence(n, temperature=temperature)
    assert res["holds"] is True
    assert all(r == 0 for r in res["student_residuals"] + res["teacher_residuals"])


def test_dkl_needs_stop_gradient():
    # without the stop-gradients the gradients differ: the proof is not vacuous
    res = S.prove_dkl_gradient_equivalence(2, stop_gradient=False)
    assert res["holds"] is False
    assert any(r != 0 for r in res["student_residuals"] + res["teacher_residuals"])


def test_dkl_numeric_against_torch_autograd():
    """Evaluate the symbolic gradients at random logits and compare with torch autograd of
    klviz.info.kl_divergence_from_logits (and of a torch DKL with .detach() as S)."""
    n, T = 4, 2.0
    res = S.prove_dkl_gradient_equivalence(n, temperature=T)
    g = torch.Generator().manual_seed(0)
    om = torch.randn(n, dtype=torch.float64, generator=g).requires_grad_()
    on = torch.randn(n, dtype=torch.float64, generator=g).requires_grad_()
    info.kl_divergence_from_logits(om, on, temperature=T).backward()

    args = res["o_m"] + res["o_n"]
    vals = om.tolist() + on.tolist()
    g_m = sp.lambdify(args, res["grad_dkl_teacher"], "math")(*vals)
    g_n = sp.lambdify(args, res["grad_dkl_student"], "math")(*vals)
    kl_value = sp.lambdify(args, res["kl"], "math")(*vals)
    np.testing.assert_allclose(g_m, om.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_n, on.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert kl_value == pytest.approx(
        float(info.kl_divergence_from_logits(om.detach(), on.detach(), temperature=T))
    )

    # the same DKL written in torch, with detach() as the stop-gradient
    om2 = om.detach().clone().requires_grad_()
    on2 = on.detach().clone().requires_grad_()
    sm, log_sn = torch.softmax(om2 / T, -1), torch.log_softmax(on2 / T, -1)
    w = (sm[:, None] * sm[None, :]).detach()
    dm = (om2[:, None] - om2[None, :]) / T
    dn = ((on2[:, None] - on2[None, :]) / T).detach()
    dkl = 0.25 * (w * (dm - dn) ** 2).sum() - (sm.detach() * log_sn).sum()
    dkl.backward()
    np.testing.assert_allclose(om2.grad.numpy(), om.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(on2.grad.numpy(), on.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- KD gradient
@pytest.mark.parametrize("T", [None, 1, 4, 2.5])
def test_kd_kl_gradient(T):
    grad, closed, diffs = S.kd_kl_gradient(3, T=T)
    assert diffs == [0, 0, 0]
    assert len(grad) == len(closed) == 3


# ----------------------------------------------------------------------------- misc identities
def test_bce_gradient():
    grad, closed, diff = S.bce_gradient()
    assert diff == 0
    z, y = sorted(grad.free_symbols, key=str)[::-1]  # (z, y)
    assert float(grad.subs({z: 0.3, y: 1})) == pytest.approx(1 / (1 + math.exp(-0.3)) - 1)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_wmse_identity(n):
    res = S.wmse_identity(n)
    assert res["difference"] == 0
    assert res["expanded_difference"] == 0
    # the appendix form is off by 2 (W - 1) sum w d^2 for general weights ...
    w, d = res["w"], res["d"]
    expected = 2 * (sum(w) - 1) * sum(wj * dj**2 for wj, dj in zip(w, d))
    assert sp.expand(res["appendix_difference"] - expected) == 0
    assert res["appendix_difference"] != 0
    # ... and right when the weights sum to one
    assert res["appendix_difference_normalised"] == 0


# the messages now follow klviz._checks ("must lie in (0, inf)"; "must be positive" before)
@pytest.mark.parametrize("bad", [0, -1.5, sp.Integer(-2), sp.Symbol("t", negative=True)])
def test_non_positive_temperatures_are_rejected(bad):
    with pytest.raises(ValueError, match=r"^T must lie in \(0, inf\)"):
        S.kd_kl_gradient(2, T=bad)
    with pytest.raises(ValueError, match=r"^temperature must lie in \(0, inf\)"):
        S.prove_dkl_gradient_equivalence(2, temperature=bad)


@pytest.mark.parametrize("bad", ["2", [2], 1j, sp.I])
def test_temperatures_of_the_wrong_type_are_rejected(bad):
    with pytest.raises(TypeError, match="^T must be a real number"):
        S.kd_kl_gradient(2, T=bad)


@pytest.mark.parametrize("bad", [1, 1.0, "2", None])
def test_sizes_are_checked(bad):
    # the DKL proof needs two classes at least; a non-int is the wrong type
    with pytest.raises(TypeError if not isinstance(bad, int) else ValueError, match="^n must be an int"):
        S.prove_dkl_gradient_equivalence(bad)
    with pytest.raises(TypeError if not isinstance(bad, int) else ValueError, match="^n must be an int"):
        S.wmse_identity(bad)
