"""Figures of chapter ``ch-kl-practice`` (KL in deep learning practice): klviz.figures.kl_practice,
checked against independent computations (scipy, the closed forms)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats
from scipy.special import softmax as scipy_softmax

from klviz import estimators as E
from klviz.examples import KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.figures.kl_practice import (
    TEMPERATURES,
    estimator_comparison,
    estimator_histograms,
    gkd_fits,
    kd_temperature,
    vae_kl_cost,
)
from klviz.fitting import GKDFit, mixture_log_density
from klviz.gradients import DEFAULT_KD_TEMPERATURES, kd_gradient_norms
from klviz.viz import figure_data

ZT = np.array(TEN_CLASS_LOGITS)
ZS = np.array(KD_STUDENT_LOGITS)


def test_kd_temperature_draws_softened_distributions_and_gradient_sizes():
    fig = kd_temperature(temperature=3.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    np.testing.assert_allclose(heights[: ZT.size], scipy_softmax(ZT / 3.0), rtol=1e-12)
    np.testing.assert_allclose(heights[ZT.size :], scipy_softmax(ZS / 3.0), rtol=1e-12)
    with_t2, without = fig.axes[1].get_lines()[:2]
    np.testing.assert_allclose(with_t2.get_xdata(), DEFAULT_KD_TEMPERATURES)
    g = kd_gradient_norms(ZT, ZS, DEFAULT_KD_TEMPERATURES)
    np.testing.assert_allclose(with_t2.get_ydata(), g["with_t2"])
    np.testing.assert_allclose(without.get_ydata(), g["without_t2"])
    # the dots at T = 3: ||T (q - p)|| and ||(q - p)/T||, from scipy's softmax
    diff = np.linalg.norm(scipy_softmax(ZS / 3.0) - scipy_softmax(ZT / 3.0))
    np.testing.assert_allclose(fig.axes[1].get_lines()[-1].get_ydata(), [diff / 3.0, 3.0 * diff], rtol=1e-12)
    kl = stats.entropy(scipy_softmax(ZT / 3.0), scipy_softmax(ZS / 3.0))
    assert f"KL = {kl:.4f} nats" in fig.get_suptitle()


def test_kd_temperature_uses_given_axes_and_rejects_bad_temperature():
    fig, axes = plt.subplots(1, 2)
    assert kd_temperature(temperature=2.0, ax=axes) is fig
    with pytest.raises(ValueError, match="temperature"):
        kd_temperature(temperature=0.0)


def test_kd_explorer_and_slider_share_one_grid():
    explorer = kd_temperature.explorer()
    assert [v for _label, v in explorer.controls["temperature"].options] == list(TEMPERATURES)
    before = figure_data(explorer.figure)
    explorer.controls["temperature"].value = 20.0
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(before, figure_data(explorer.figure)))
    fig = kd_temperature.online()
    assert [s.label for s in fig.layout.sliders[0].steps] == [f"{t:g}" for t in TEMPERATURES]
    assert fig.layout.sliders[0].active == TEMPERATURES.index(4.0)


def test_estimator_comparison():
    rows = E.gaussian_estimator_table([0.1, 0.5, 1.0], n=2000, rng=0)
    fig = estimator_comparison(rows=rows)
    assert len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["$k_1$", "$k_2$", "$k_3$"]  # the chapter looks colours up by label
    np.testing.assert_allclose(lines[0].get_ydata(), [r["k1_rel_std"] for r in rows])
    np.testing.assert_allclose(fig.axes[1].get_lines()[2].get_ydata(), [r["k3_rel_bias"] for r in rows])
    with pytest.raises(ValueError, match="rows"):
        estimator_comparison(rows=[])


def test_estimator_histograms():
    lr = E.sample_log_ratio_gaussian(0.5, 1.0, n=3000, rng=0)
    fig = estimator_histograms(log_ratio=lr, true_kl=0.125)
    assert len(fig.axes[0].patches) == 3  # one step histogram per estimator
    assert fig.axes[0].get_lines()[0].get_xdata()[0] == pytest.approx(0.125)
    with pytest.raises(ValueError, match="log_ratio"):
        estimator_histograms(log_ratio=[0.1], true_kl=0.1)


def test_vae_kl_cost():
    fig = vae_kl_cost(dims=[10, 100, 1000], seconds=[1e-5, 2e-5, 1e-4], batch=32)
    measured, ref = fig.axes[0].get_lines()
    np.testing.assert_allclose(measured.get_ydata(), [10, 20, 100])
    np.testing.assert_allclose(ref.get_ydata(), [1, 10, 100])
    assert fig.axes[0].get_ylabel() == "time per call (µs) for a batch of 32"
    with pytest.raises(ValueError, match="dims"):
        vae_kl_cost(dims=[1], seconds=[1e-5])


def test_gkd_fits_draws_the_students():
    x = np.linspace(-10, 10, 401)
    log_p = mixture_log_density(x, separation=5.0, weight=0.7)
    fits = [GKDFit(0.0, -1.0, 2.6, 0.1), GKDFit(0.5, -1.8, 1.5, 0.05), GKDFit(1.0, -2.5, 1.0, 0.2)]
    fig = gkd_fits(x=x, log_p=log_p, fits=fits, show_betas=(0.0, 1.0))
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), [f.mu for f in fits])
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), stats.norm(-2.5, 1.0).pdf(x), atol=1e-12)
    with pytest.raises(ValueError, match="show_betas"):
        gkd_fits(x=x, log_p=log_p, fits=fits, show_betas=(0.3,))
