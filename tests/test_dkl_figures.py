"""Chapter ``ch-dkl`` (ch-dkl): figures, explorer and online slider, checked against independent computations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from klviz import info
from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS
from klviz.gradients import kl_gradient_components
from klviz.online.dkl import TEMPERATURES, dkl_gradient_slider
from klviz.plots import dkl
from klviz.widgets import figure_data
from klviz.widgets.dkl import dkl_gradient_explorer


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_dkl_gradients_draws_the_gradients():
    fig = dkl.plot_dkl_gradients(temperature=2.0)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    g_m, g_n = kl_gradient_components(DKL_TEACHER_LOGITS, DKL_STUDENT_LOGITS, temperature=2.0)
    heights = np.array([p.get_height() for p in ax.patches])
    np.testing.assert_allclose(heights, np.concatenate([g_m, g_n]), atol=1e-12)
    dots = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(dots, info.softmax(np.array(DKL_TEACHER_LOGITS), temperature=2.0))


def test_plot_wmse_cost_and_cancellation():
    fig = dkl.plot_wmse_cost([10, 100], [1.0, 2.0], [3.0, 40.0], ylabel="bytes")
    ys = sorted(tuple(line.get_ydata()) for line in fig.axes[0].get_lines())
    assert ys == [(1.0, 2.0), (3.0, 40.0)]
    fig = dkl.plot_cancellation([1.0, 10.0], {"a": [1e-5, 1e-3], "b": [0.0, 1e-5]})
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [1e-5, 1e-3])
    # exact zeros are drawn at machine epsilon, not dropped from the log axis
    assert lines[1].get_ydata()[0] == pytest.approx(np.finfo(np.float32).eps)
    with pytest.raises(ValueError):
        dkl.plot_wmse_cost([10, 100], [1.0], [3.0, 4.0], ylabel="s")


def test_explorer_redraws_on_slider_change():
    explorer = dkl_gradient_explorer(temperature=1.0)
    before = figure_data(explorer.figure)
    explorer.controls["temperature"].value = 6.0
    after = figure_data(explorer.figure)
    assert len(before) == len(after)
    assert any(not np.allclose(a, b) for a, b in zip(before, after))


def test_online_slider_frames():
    fig = dkl_gradient_slider()
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(TEMPERATURES)
    assert len(fig.data) == 3 * len(TEMPERATURES)
    # frame i shows the gradients at temperature i
    for i, T in enumerate(TEMPERATURES):
        g_m, g_n = kl_gradient_components(DKL_TEACHER_LOGITS, DKL_STUDENT_LOGITS, temperature=T)
        np.testing.assert_allclose(fig.data[3 * i].y, g_m, atol=1e-12)
        np.testing.assert_allclose(fig.data[3 * i + 1].y, g_n, atol=1e-12)
    assert not np.allclose(fig.data[0].y, fig.data[3].y)
    visible = steps[2].args[0]["visible"]
    assert sum(visible) == 3 and all(visible[6:9])
