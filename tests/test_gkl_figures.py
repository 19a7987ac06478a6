"""Chapter ``ch-gkl`` (ch-gkl): student-gradient figure, convergence plot, explorer and online slider."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from klviz.gradients import student_gradients
from klviz.online.gkl import GAMMAS, student_gradient_slider
from klviz.plots import gkl
from klviz.widgets import figure_data
from klviz.widgets.gkl import student_gradient_explorer


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_student_gradients_bars():
    fig = gkl.plot_student_gradients(gamma=0.5, temperature=4.0)
    assert isinstance(fig, Figure)
    heights = np.array([p.get_height() for p in fig.axes[0].patches])
    expected = np.concatenate(list(student_gradients(0.5, temperature=4.0).values()))
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
    expected = student_gradients(0.5, temperature=4.0)["GKL, sample weights"]
    np.testing.assert_allclose(fig.data[4 * i + 2].y, expected, atol=1e-12)
    # GKL frames differ between gamma values; KL frames do not
    assert not np.allclose(fig.data[2].y, fig.data[4 * i + 2].y)
    np.testing.assert_allclose(fig.data[0].y, fig.data[4 * i].y)
