"""Figures, explorer and online slider of chapter ``ch-probability`` (Probability and the softmax)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy.special import softmax as scipy_softmax

from klviz.examples import TEN_CLASS_LOGITS
from klviz.online.probability import DEFAULT_TEMPERATURES, softmax_temperature_slider
from klviz.plots.probability import (
    plot_pmf,
    plot_softmax_temperature,
    plot_softmax_vs_temperature,
)
from klviz.widgets import figure_data
from klviz.widgets.probability import softmax_temperature_explorer

Z = np.array(TEN_CLASS_LOGITS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_pmf_draws_probabilities_and_mean():
    x, p = np.arange(1, 7), np.full(6, 1 / 6)
    fig = plot_pmf(x, p)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    points = ax.get_lines()[0].get_xydata()
    np.testing.assert_allclose(points, np.column_stack([x, p]))
    mean_line = ax.get_lines()[1].get_xdata()
    np.testing.assert_allclose(mean_line, [3.5, 3.5])


def test_pmf_rejects_unnormalised():
    with pytest.raises(ValueError, match="probs"):
        plot_pmf([0, 1], [0.5, 0.6])


@pytest.mark.parametrize("t", [0.3, 1.0, 4.0])
def test_softmax_bars_match_scipy(t):
    fig = plot_softmax_temperature(Z, t)
    assert isinstance(fig, Figure)
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    np.testing.assert_allclose(heights, scipy_softmax(Z / t), rtol=1e-12)


def test_softmax_bars_uses_given_axes():
    fig, ax = plt.subplots()
    assert plot_softmax_temperature(Z, 1.0, ax=ax) is fig


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_softmax_bars_reject_bad_temperature(bad):
    with pytest.raises(ValueError, match="temperature"):
        plot_softmax_temperature(Z, bad)


def test_softmax_vs_temperature_curves():
    ts = np.geomspace(0.1, 10, 25)
    fig = plot_softmax_vs_temperature(Z, ts)
    lines = fig.axes[0].get_lines()
    # the first line is the arg-max class (3); it must match scipy at every T
    np.testing.assert_allclose(lines[0].get_xdata(), ts)
    np.testing.assert_allclose(lines[0].get_ydata(), [scipy_softmax(Z / t)[3] for t in ts], rtol=1e-12)
    # the curves of all 10 classes sum to 1 at every temperature
    total = sum(line.get_ydata() for line in lines[: Z.size])
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)


def test_explorer_redraws_on_temperature_change():
    explorer = softmax_temperature_explorer()
    before = figure_data(explorer.figure)
    explorer.controls["temperature"].value = 5.0
    after = figure_data(explorer.figure)
    assert len(before) == len(after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    heights = [patch.get_height() for patch in explorer.figure.axes[0].patches]
    np.testing.assert_allclose(heights, scipy_softmax(Z / 5.0), rtol=1e-12)


def test_online_slider_has_a_frame_per_temperature():
    fig = softmax_temperature_slider()
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [f"{t:g}" for t in DEFAULT_TEMPERATURES]
    assert len(fig.data) == 2 * len(DEFAULT_TEMPERATURES)
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert len(bars) == len(DEFAULT_TEMPERATURES)
    for tr, t in zip(bars, DEFAULT_TEMPERATURES):
        np.testing.assert_allclose(tr.y, scipy_softmax(Z / t), rtol=1e-12)
    assert not np.allclose(bars[0].y, bars[-1].y)
    # exactly one frame (two traces) visible at a time
    assert sum(bool(tr.visible) for tr in fig.data) == 2


@settings(max_examples=25, deadline=None)
@given(
    logits=st.lists(st.floats(-50, 50), min_size=2, max_size=8),
    shift=st.floats(-100, 100),
    t=st.floats(0.05, 20),
)
def test_softmax_bars_sum_to_one_and_ignore_shifts(logits, shift, t):
    z = np.array(logits)
    fig = plot_softmax_temperature(z, t)
    heights = np.array([patch.get_height() for patch in fig.axes[0].patches])
    shifted = plot_softmax_temperature(z + shift, t)
    shifted_heights = np.array([patch.get_height() for patch in shifted.axes[0].patches])
    plt.close("all")
    assert np.isclose(heights.sum(), 1.0)
    np.testing.assert_allclose(heights, shifted_heights, atol=1e-9)
