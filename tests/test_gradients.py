"""klviz.gradients: the KD, DKL and GKL logit gradients against autograd and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from klviz import info, losses
from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS, GKL_CLASS_MEAN, KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.gradients import (
    DEFAULT_KD_TEMPERATURES,
    kd_gradient,
    kd_gradient_norms,
    kl_gradient_components,
    student_gradients,
)

ZT = np.array(TEN_CLASS_LOGITS)
ZS = np.array(KD_STUDENT_LOGITS)


# ------------------------------------------------------------------ KD (ch-kl-practice)
@pytest.mark.parametrize("t", [0.5, 1.0, 4.0, 20.0])
def test_kd_gradient_matches_autograd_of_kd_loss(t):
    s = torch.tensor(ZS, dtype=torch.float64, requires_grad=True)
    losses.kd_loss(s[None], torch.tensor(ZT, dtype=torch.float64)[None], temperature=t).backward()
    np.testing.assert_allclose(kd_gradient(ZT, ZS, t), s.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(kd_gradient(ZT, ZS, t, t_squared=False), s.grad.numpy() / t**2, rtol=1e-10, atol=1e-14)


def test_kd_gradient_takes_a_batch_axis():
    g = kd_gradient(np.stack([ZT, ZS]), np.stack([ZS, ZT]), 2.0)
    np.testing.assert_allclose(g[0], kd_gradient(ZT, ZS, 2.0))
    np.testing.assert_allclose(g[1], kd_gradient(ZS, ZT, 2.0))


def test_gradient_norms_and_high_temperature_limit():
    g = kd_gradient_norms(ZT, ZS, [1.0, 1e3, 1e4])
    np.testing.assert_allclose(g["without_t2"], g["with_t2"] / g["T"] ** 2)
    # at T = 1e4 the T^2-scaled gradient equals (z_s - z_t centred)/C to O(1/T)
    np.testing.assert_allclose(g["with_t2"][-1], g["limit_with_t2"][-1], rtol=1e-3)
    expected = np.linalg.norm((ZS - ZS.mean()) - (ZT - ZT.mean())) / ZT.size
    np.testing.assert_allclose(g["limit_with_t2"], expected)


def test_gradient_norms_defaults_are_the_chapter_example():
    g = kd_gradient_norms()
    np.testing.assert_array_equal(g["T"], DEFAULT_KD_TEMPERATURES)
    np.testing.assert_allclose(g["with_t2"][5], np.linalg.norm(kd_gradient(ZT, ZS, DEFAULT_KD_TEMPERATURES[5])))


def test_kd_gradient_rejects_bad_input():
    with pytest.raises(ValueError, match="temperature"):
        kd_gradient(ZT, ZS, 0.0)
    with pytest.raises(TypeError, match="temperature"):
        kd_gradient(ZT, ZS, "4")
    with pytest.raises(ValueError, match="same"):
        kd_gradient(ZT, ZS[:3], 1.0)
    with pytest.raises(ValueError, match="temperatures"):
        kd_gradient_norms(ZT, ZS, [1.0, -2.0])
    with pytest.raises(ValueError, match="same number of classes"):
        kd_gradient_norms(ZT, ZS[:3], [1.0])


# ------------------------------------------------------------------ DKL (ch-dkl)
@pytest.mark.parametrize("T", [0.5, 1.0, 4.0])
def test_gradient_components_match_closed_forms(T):
    rng = np.random.default_rng(0)
    o_m, o_n = 3 * rng.normal(size=7), 3 * rng.normal(size=7)
    g_m, g_n = kl_gradient_components(o_m, o_n, temperature=T)
    s_m, s_n = info.softmax(o_m, temperature=T), info.softmax(o_n, temperature=T)
    d = (o_m - o_n) / T
    np.testing.assert_allclose(g_n, T * (s_n - s_m), atol=1e-12)
    np.testing.assert_allclose(g_m, T * s_m * (d - s_m @ d), atol=1e-12)
    # without the T^2 factor: gradients of KL itself, (s_n - s_m)/T
    _, g_n1 = kl_gradient_components(o_m, o_n, temperature=T, scale_by_t2=False)
    np.testing.assert_allclose(g_n1, (s_n - s_m) / T, atol=1e-12)


def test_gradient_components_bad_input():
    with pytest.raises(ValueError, match="temperature"):
        kl_gradient_components([1.0, 2.0], [0.0, 1.0], temperature=0.0)
    with pytest.raises(ValueError, match="same shape"):
        kl_gradient_components([1.0, 2.0], [0.0, 1.0, 2.0])


# ------------------------------------------------------------------ GKL (ch-gkl)
def _closed_form(gamma, T, weights=None):
    """beta T (s_n - s_m) - alpha T W w (d - dbar), alpha = beta = 1 (independent of klviz.losses)."""
    o_m = np.array(DKL_TEACHER_LOGITS) / T
    o_n = np.array(DKL_STUDENT_LOGITS) / T
    s_m, s_n = info.softmax(o_m), info.softmax(o_n)
    w = (s_m if weights is None else np.asarray(weights)) ** gamma
    d = o_m - o_n
    dbar = (w * d).sum() / w.sum()
    return T * (s_n - s_m) - T * w.sum() * w * (d - dbar)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("T", [1.0, 4.0])
def test_student_gradients_match_closed_form(gamma, T):
    g = student_gradients(gamma, temperature=T)
    s_m = info.softmax(np.array(DKL_TEACHER_LOGITS), temperature=T)
    s_n = info.softmax(np.array(DKL_STUDENT_LOGITS), temperature=T)
    np.testing.assert_allclose(g["KL (= DKL)"], T * (s_n - s_m), atol=1e-10)
    np.testing.assert_allclose(g["IKL, sample weights"], _closed_form(1.0, T), atol=1e-10)
    np.testing.assert_allclose(g["GKL, sample weights"], _closed_form(gamma, T), atol=1e-10)
    np.testing.assert_allclose(g["GKL, class weights"], _closed_form(gamma, T, GKL_CLASS_MEAN), atol=1e-10)


def test_ikl_adds_the_negated_teacher_gradient():
    g = student_gradients(1.0, temperature=4.0)
    g_m, g_n = kl_gradient_components(DKL_TEACHER_LOGITS, DKL_STUDENT_LOGITS, temperature=4.0)
    np.testing.assert_allclose(g["IKL, sample weights"], g_n - g_m, atol=1e-12)


def test_student_gradients_bad_input():
    with pytest.raises(ValueError, match="class_mean"):
        student_gradients(1.0, class_mean=[0.5, 0.5])
    with pytest.raises(ValueError, match="class_mean must sum to 1"):
        student_gradients(1.0, class_mean=[0.5] * 6)
    with pytest.raises(ValueError, match="target"):
        student_gradients(1.0, target=6)
    with pytest.raises(ValueError, match="temperature"):
        student_gradients(1.0, temperature=-1.0)
