"""Figures, explorers and online sliders of chapter ``ch-entropy`` (Entropy)."""

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
from scipy.stats import entropy as scipy_entropy

from klviz.examples import TEN_CLASS_LOGITS
from klviz.online.entropy import binary_entropy_slider, entropy_temperature_slider
from klviz.online.probability import DEFAULT_TEMPERATURES
from klviz.plots.entropy import (
    plot_binary_entropy,
    plot_entropy_vs_temperature,
    plot_prediction_entropy,
    unit_name,
)
from klviz.widgets import figure_data
from klviz.widgets.entropy import binary_entropy_explorer, entropy_temperature_explorer

Z = np.array(TEN_CLASS_LOGITS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def h2(p):
    return scipy_entropy([p, 1 - p], base=2)


def test_unit_names():
    assert unit_name(2) == "bits" and unit_name(None) == "nats" and unit_name(10) == "bans"


def test_binary_entropy_curve_and_point():
    fig = plot_binary_entropy(0.9)
    assert isinstance(fig, Figure)
    curve, _, point = fig.axes[0].get_lines()[:3]
    x, y = curve.get_xdata(), curve.get_ydata()
    np.testing.assert_allclose(y, [h2(v) for v in x], atol=1e-12)
    np.testing.assert_allclose(point.get_xdata(), [0.9, 0.1])
    np.testing.assert_allclose(point.get_ydata(), [h2(0.9)] * 2)


def test_binary_entropy_in_nats():
    y = plot_binary_entropy(None, base=None).axes[0].get_lines()[0].get_ydata()
    assert np.isclose(y.max(), np.log(2))


def test_binary_entropy_rejects_bad_p():
    with pytest.raises(ValueError, match="p must"):
        plot_binary_entropy(1.5)


def test_entropy_vs_temperature_matches_scipy():
    ts = np.geomspace(0.1, 10, 20)
    fig = plot_entropy_vs_temperature(Z, 2.0, temperatures=ts)
    curve, hmax, point = fig.axes[0].get_lines()
    expected = [scipy_entropy(scipy_softmax(Z / t), base=2) for t in ts]
    np.testing.assert_allclose(curve.get_ydata(), expected, atol=1e-12)
    np.testing.assert_allclose(hmax.get_ydata(), [np.log2(10)] * 2)
    np.testing.assert_allclose(point.get_ydata(), [scipy_entropy(scipy_softmax(Z / 2.0), base=2)])
    # entropy of softmax(z/T) increases with T (z not constant)
    assert np.all(np.diff(curve.get_ydata()) > 0)


def test_prediction_entropy_bars_and_legend():
    probs = np.array([[0.9, 0.05, 0.05], [0.4, 0.3, 0.3]])
    fig = plot_prediction_entropy(probs, ["confident", "uncertain"])
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    np.testing.assert_allclose(heights, probs.ravel())
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"{scipy_entropy(probs[0], base=2):.3f}" in labels[0]


def test_prediction_entropy_rejects_name_mismatch():
    with pytest.raises(ValueError, match="names"):
        plot_prediction_entropy([[0.5, 0.5]], ["a", "b"])


def test_binary_entropy_explorer_changes():
    explorer = binary_entropy_explorer()
    before = figure_data(explorer.figure)
    explorer.controls["p"].value = 0.3
    after = figure_data(explorer.figure)
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(before, after))


def test_entropy_temperature_explorer_changes():
    explorer = entropy_temperature_explorer()
    before = figure_data(explorer.figure)
    explorer.controls["temperature"].value = 5.0
    after = figure_data(explorer.figure)
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(before, after))
    point = explorer.figure.axes[0].get_lines()[2]
    np.testing.assert_allclose(point.get_ydata(), [scipy_entropy(scipy_softmax(Z / 5.0), base=2)])


def test_entropy_temperature_slider_frames():
    fig = entropy_temperature_slider()
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(DEFAULT_TEMPERATURES)
    assert len(fig.data) == 3 * len(DEFAULT_TEMPERATURES)
    points = fig.data[2::3]
    ys = [tr.y[0] for tr in points]
    expected = [scipy_entropy(scipy_softmax(Z / t), base=2) for t in DEFAULT_TEMPERATURES]
    np.testing.assert_allclose(ys, expected, atol=1e-12)
    assert len(set(np.round(ys, 9))) == len(ys)
    assert sum(bool(tr.visible) for tr in fig.data) == 3


def test_binary_entropy_slider_frames():
    fig = binary_entropy_slider()
    assert len(fig.layout.sliders[0].steps) == 21
    points = fig.data[1::2]
    np.testing.assert_allclose([tr.y[0] for tr in points], [h2(p) for p in np.linspace(0, 1, 21)], atol=1e-12)
    assert points[0].y[0] != points[5].y[0]


@settings(max_examples=25, deadline=None)
@given(logits=st.lists(st.floats(-30, 30), min_size=2, max_size=8))
def test_entropy_curve_between_bounds(logits):
    z = np.array(logits)
    ts = np.geomspace(0.1, 10, 15)
    curve = plot_entropy_vs_temperature(z, None, temperatures=ts).axes[0].get_lines()[0].get_ydata()
    plt.close("all")
    assert np.all(curve >= -1e-12) and np.all(curve <= np.log2(z.size) + 1e-9)
    # entropy never decreases with the temperature (dH/dT = Var/T^3 >= 0)
    assert np.all(np.diff(curve) >= -1e-9)
