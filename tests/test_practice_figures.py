"""Figures, explorer and online slider of chapter ``ch-kl-practice`` (KL divergence in deep learning practice)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats
from scipy.special import softmax as scipy_softmax

from klviz import estimators as E
from klviz.examples import KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.fitting import GKDFit, mixture_log_density
from klviz.gradients import DEFAULT_KD_TEMPERATURES, kd_gradient, kd_gradient_norms
from klviz.online.practice import DEFAULT_TEMPERATURES, kd_temperature_slider
from klviz.plots import practice as P
from klviz.widgets import figure_data
from klviz.widgets.practice import kd_temperature_explorer

ZT = np.array(TEN_CLASS_LOGITS)
ZS = np.array(KD_STUDENT_LOGITS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ figures
def test_plot_kd_temperature_draws_softened_distributions():
    fig = P.plot_kd_temperature(ZT, ZS, 3.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    np.testing.assert_allclose(heights[: ZT.size], scipy_softmax(ZT / 3.0), rtol=1e-12)
    np.testing.assert_allclose(heights[ZT.size :], scipy_softmax(ZS / 3.0), rtol=1e-12)
    line = fig.axes[1].get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), DEFAULT_KD_TEMPERATURES)


def test_plot_kd_temperature_uses_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert P.plot_kd_temperature(ZT, ZS, 2.0, ax=axes) is fig


def test_plot_gradient_scale_curves():
    ts = np.geomspace(1, 50, 7)
    fig = P.plot_gradient_scale(ZT, ZS, ts, marker=2.0)
    with_t2, without = fig.axes[0].get_lines()[:2]
    g = kd_gradient_norms(ZT, ZS, ts)
    np.testing.assert_allclose(with_t2.get_ydata(), g["with_t2"])
    np.testing.assert_allclose(without.get_ydata(), g["without_t2"])


def test_plot_estimator_comparison():
    rows = E.gaussian_estimator_table([0.1, 0.5, 1.0], n=2000, rng=0)
    fig = P.plot_estimator_comparison(rows)
    assert len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_ydata(), [r["k1_rel_std"] for r in rows])
    with pytest.raises(ValueError, match="rows"):
        P.plot_estimator_comparison([])


def test_plot_estimator_histograms():
    lr = E.sample_log_ratio_gaussian(0.5, 1.0, n=3000, rng=0)
    fig = P.plot_estimator_histograms(lr, 0.125)
    assert isinstance(fig, Figure)
    assert len(fig.axes[0].patches) == 3  # one step histogram per estimator
    assert fig.axes[0].get_lines()[0].get_xdata()[0] == pytest.approx(0.125)


def test_plot_vae_kl_cost():
    fig = P.plot_vae_kl_cost([10, 100, 1000], [1e-5, 2e-5, 1e-4], batch=32)
    measured, ref = fig.axes[0].get_lines()
    np.testing.assert_allclose(measured.get_ydata(), [10, 20, 100])
    np.testing.assert_allclose(ref.get_ydata(), [1, 10, 100])
    with pytest.raises(ValueError, match="dims"):
        P.plot_vae_kl_cost([1], [1e-5])


def test_plot_gkd_fits_draws_the_students():
    x = np.linspace(-10, 10, 401)
    log_p = mixture_log_density(x, separation=5.0, weight=0.7)
    fits = [GKDFit(0.0, -1.0, 2.6, 0.1), GKDFit(0.5, -1.8, 1.5, 0.05), GKDFit(1.0, -2.5, 1.0, 0.2)]
    fig = P.plot_gkd_fits(x, log_p, fits, show_betas=(0.0, 1.0))
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].get_lines()[0].get_ydata(), [f.mu for f in fits])
    students = fig.axes[0].get_lines()
    np.testing.assert_allclose(students[1].get_ydata(), stats.norm(-2.5, 1.0).pdf(x), atol=1e-12)
    with pytest.raises(ValueError, match="show_betas"):
        P.plot_gkd_fits(x, log_p, fits, show_betas=(0.3,))


# ------------------------------------------------------------------ explorer
def test_kd_explorer_redraws_on_temperature_change():
    explorer = kd_temperature_explorer()
    before = figure_data(explorer.figure)
    explorer.controls["temperature"].value = 20.0
    after = figure_data(explorer.figure)
    assert len(before) == len(after)
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(before, after))


# ------------------------------------------------------------------ online slider
def test_online_kd_slider_steps_traces_and_frames():
    fig = kd_temperature_slider()
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(DEFAULT_TEMPERATURES)
    assert len(fig.data) == 4 * len(DEFAULT_TEMPERATURES)
    # every step shows exactly its own 4 traces
    for i, step in enumerate(steps):
        visible = step.args[0]["visible"]
        assert sum(visible) == 4 and all(visible[4 * i : 4 * i + 4])
    # teacher bars match softmax(z_t / T) and differ between frames
    first, last = fig.data[0], fig.data[4 * (len(DEFAULT_TEMPERATURES) - 1)]
    np.testing.assert_allclose(first.y, scipy_softmax(ZT / DEFAULT_TEMPERATURES[0]), rtol=1e-12)
    assert not np.allclose(first.y, last.y)
    np.testing.assert_allclose(fig.data[2].y, kd_gradient(ZT, ZS, DEFAULT_TEMPERATURES[0]))
    with pytest.raises(ValueError, match="temperatures"):
        kd_temperature_slider(temperatures=[1.0, 0.0])
