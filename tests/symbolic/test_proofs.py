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


# ----------------------------------------------------------------------------- k1/k2/k3
def test_kl_estimator_gradients_simplify_to_zero_and_match_numbers():
    from klviz import estimators

    res = S.kl_estimator_gradients(3)
    for name in ("k1", "k2", "k3", "k3_forward"):
        assert res[name] == [0, 0, 0], name
    theta, rho = sp.symbols("theta_1:4", real=True), sp.symbols("rho_1:4", real=True)
    vals = dict(zip(theta, (0.4, -1.1, 0.7))) | dict(zip(rho, (0.2, 0.9, -0.3)))
    for name, grad in res["gradients"].items():
        got = np.array([float(g.subs(vals)) for g in grad])
        want = estimators.expected_gradient([0.4, -1.1, 0.7], [0.2, 0.9, -0.3], name)
        np.testing.assert_allclose(got, want, atol=1e-12)
    # the proof is not vacuous: k3's mean gradient is not the reverse KL's
    assert not np.allclose(estimators.expected_gradient([0.4, -1.1, 0.7], [0.2, 0.9, -0.3], "k3"),
                           estimators.expected_gradient([0.4, -1.1, 0.7], [0.2, 0.9, -0.3], "k2"))


@pytest.mark.parametrize("n", [3, 4])
def test_dkd_decomposition(n):
    import torch

    from klviz import losses

    res = S.dkd_decomposition(n)
    assert res["difference"] == 0
    # the same identity in numbers, against the library's dkd_terms at T = 1
    a = np.arange(1, n + 1) / 2.0
    b = np.arange(n, 0, -1) / 3.0
    vals = dict(zip(sp.symbols(f"a_1:{n + 1}", positive=True), a)) | dict(
        zip(sp.symbols(f"b_1:{n + 1}", positive=True), b))
    t_log, s_log = torch.tensor(np.log(a))[None], torch.tensor(np.log(b))[None]
    tckd, nckd, p_t = losses.dkd_terms(s_log, t_log, torch.tensor([0]), temperature=1.0)
    assert float(res["tckd"].subs(vals)) == pytest.approx(tckd.item(), rel=1e-10)
    assert float(res["nckd"].subs(vals)) == pytest.approx(nckd.item(), rel=1e-10)
    assert float(res["kl"].subs(vals)) == pytest.approx(info.kl_divergence(a / a.sum(), b / b.sum()), rel=1e-12)
