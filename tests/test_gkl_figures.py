"""Chapter ``ch-gkl`` (ch-gkl): student-gradient figure, convergence plot, explorer and online slider."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from klviz import info
from klviz.online.gkl import GAMMAS, student_gradient_slider
from klviz.plots import dkl, gkl
from klviz.widgets import figure_data
from klviz.widgets.gkl import student_gradient_explorer


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _closed_form(gamma, T, weights=None):
    """beta T (s_n - s_m) - alpha T W w (d - dbar), alpha = beta = 1 (independent of klviz.losses)."""
    o_m = np.array(dkl.DEFAULT_TEACHER_LOGITS) / T
    o_n = np.array(dkl.DEFAULT_STUDENT_LOGITS) / T
    s_m, s_n = info.softmax(o_m), info.softmax(o_n)
    w = (s_m if weights is None else np.asarray(weights)) ** gamma
    d = o_m - o_n
    dbar = (w * d).sum() / w.sum()
    return T * (s_n - s_m) - T * w.sum() * w * (d - dbar)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("T", [1.0, 4.0])
def test_student_gradients_match_closed_form(gamma, T):
    g = gkl.student_gradients(gamma, temperature=T)
    s_m = info.softmax(np.array(dkl.DEFAULT_TEACHER_LOGITS), temperature=T)
    s_n = info.softmax(np.array(dkl.DEFAULT_STUDENT_LOGITS), temperature=T)
    np.testing.assert_allclose(g["KL (= DKL)"], T * (s_n - s_m), atol=1e-10)
    np.testing.assert_allclose(g["IKL, sample weights"], _closed_form(1.0, T), atol=1e-10)
    np.testing.assert_allclose(g["GKL, sample weights"], _closed_form(gamma, T), atol=1e-10)
    np.testing.assert_allclose(g["GKL, class weights"], _closed_form(gamma, T, gkl.DEFAULT_CLASS_MEAN), atol=1e-10)


def test_ikl_adds_the_negated_teacher_gradient():
    g = gkl.student_gradients(1.0, temperature=4.0)
    g_m, g_n = dkl.kl_gradient_components(dkl.DEFAULT_TEACHER_LOGITS, dkl.DEFAULT_STUDENT_LOGITS, temperature=4.0)
    np.testing.assert_allclose(g["IKL, sample weights"], g_n - g_m, atol=1e-12)


def test_student_gradients_bad_input():
    with pytest.raises(ValueError, match="class_mean"):
        gkl.student_gradients(1.0, class_mean=[0.5, 0.5])
    with pytest.raises(ValueError, match="probability"):
        gkl.student_gradients(1.0, class_mean=[0.5] * 6)


def test_plot_student_gradients_bars():
    fig = gkl.plot_student_gradients(gamma=0.5, temperature=4.0)
    assert isinstance(fig, Figure)
    heights = np.array([p.get_height() for p in fig.axes[0].patches])
    expected = np.concatenate(list(gkl.student_gradients(0.5, temperature=4.0).values()))
    np.testing.assert_allclose(heights, expected, atol=1e-12)


def test_plot_convergence_mean_and_band():
    res = {"a": {"step": np.array([0, 10, 20]), "accuracy": np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.9]])}}
    fig = gkl.plot_convergence(res)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.6, 0.9])
    assert len(fig.axes[0].collections) == 1
    with pytest.raises(ValueError, match="metric"):
        gkl.plot_convergence(res, metric="kl")


def test_explorer_redraws_on_slider_change():
    explorer = student_gradient_explorer(gamma=1.0)
    before = figure_data(explorer.figure)
    explorer.controls["gamma"].value = 0.5
    after = figure_data(explorer.figure)
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    explorer.controls["temperature"].value = 2.0
    assert any(not np.allclose(a, b) for a, b in zip(after, figure_data(explorer.figure)))


def test_online_slider_frames():
    fig = student_gradient_slider()
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(GAMMAS)
    assert len(fig.data) == 4 * len(GAMMAS)
    assert fig.layout.sliders[0].active == list(GAMMAS).index(1.0)
    i = list(GAMMAS).index(0.5)
    expected = gkl.student_gradients(0.5, temperature=4.0)["GKL, sample weights"]
    np.testing.assert_allclose(fig.data[4 * i + 2].y, expected, atol=1e-12)
    # GKL frames differ between gamma values; KL frames do not
    assert not np.allclose(fig.data[2].y, fig.data[4 * i + 2].y)
    np.testing.assert_allclose(fig.data[0].y, fig.data[4 * i].y)
