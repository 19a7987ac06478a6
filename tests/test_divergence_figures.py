"""Figures, explorer and online slider of chapter ``ch-kl`` (KL divergence)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from klviz.online.divergence import DEFAULT_SEPARATIONS, mode_fit_slider
from klviz.plots.divergence import kl_blowup_figure, mode_fit_figure, shift_divergence_figure
from klviz.widgets import figure_data
from klviz.widgets.divergence import mode_fit_explorer


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_mode_fit_figure_shows_mixture_and_two_fits():
    fig = mode_fit_figure(8.0, 0.5)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    mix, fwd, rev = ax.get_lines()[:3]
    x = mix.get_xdata()
    ref = 0.5 * stats.norm(-4, 1).pdf(x) + 0.5 * stats.norm(4, 1).pdf(x)
    np.testing.assert_allclose(mix.get_ydata(), ref, atol=1e-12)
    np.testing.assert_allclose(fwd.get_ydata(), stats.norm(0, np.sqrt(17)).pdf(x), atol=1e-5)
    # reverse fit sits on one mode
    assert abs(abs(x[np.argmax(rev.get_ydata())]) - 4.0) < 0.05


def test_kl_blowup_figure():
    fig = kl_blowup_figure(0.2)
    forward = fig.axes[0].get_lines()[0]
    eps = forward.get_xdata()
    np.testing.assert_allclose(forward.get_ydata(), [stats.entropy([0.2, 0.8], [e, 1 - e]) for e in eps], rtol=1e-12)
    assert len(fig.axes[0].get_lines()) >= 4


def test_shift_divergence_figure():
    fig = shift_divergence_figure(3.0)
    w = fig.axes[0].get_lines()[0].get_xydata()
    np.testing.assert_allclose(w[:, 1], w[:, 0], atol=1e-12)


@pytest.mark.parametrize("name, value", [("separation", 2.0), ("weight", 0.2)])
def test_explorer_redraws(name, value):
    ex = mode_fit_explorer()
    before = figure_data(ex.figure)
    ex.controls[name].value = value
    after = figure_data(ex.figure)
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(before, after))


def test_online_slider():
    values = DEFAULT_SEPARATIONS[::4]
    fig = mode_fit_slider(values)
    n = len(values)
    assert len(fig.layout.sliders[0].steps) == n and len(fig.data) == 3 * n
    mixtures = [np.asarray(fig.data[3 * i].y) for i in range(n)]
    assert all(not np.allclose(mixtures[i], mixtures[i + 1]) for i in range(n - 1))
    # at separation 0 both fits equal the target
    np.testing.assert_allclose(fig.data[1].y, fig.data[0].y, atol=1e-6)
    np.testing.assert_allclose(fig.data[2].y, fig.data[0].y, atol=1e-6)
