"""Figures of chapter ``ch-entropy`` (Entropy): klviz.figures.entropy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax as scipy_softmax
from scipy.stats import entropy as scipy_entropy

from klviz.examples import TEN_CLASS_LOGITS
from klviz.figures.entropy import binary_entropy, entropy_vs_temperature, prediction_entropy, unit_name
from klviz.figures.probability import TEMPERATURES
from klviz.viz import figure_data

Z = np.array(TEN_CLASS_LOGITS)


def h2(p):
    return scipy_entropy([p, 1 - p], base=2)


def test_unit_names():
    assert unit_name(2) == "bits" and unit_name(None) == "nats" and unit_name(10) == "bans"


def test_binary_entropy_curve_and_point():
    fig = binary_entropy(p=0.9)
    curve, _, point = fig.axes[0].get_lines()[:3]
    np.testing.assert_allclose(curve.get_ydata(), [h2(v) for v in curve.get_xdata()], atol=1e-12)
    np.testing.assert_allclose(point.get_xdata(), [0.9, 0.1])
    np.testing.assert_allclose(point.get_ydata(), [h2(0.9)] * 2)
    assert fig.axes[0].get_ylabel() == "entropy $h(p)$ [bits]"


def test_binary_entropy_in_nats():
    fig = binary_entropy(p=None, base=None)
    assert np.isclose(fig.axes[0].get_lines()[0].get_ydata().max(), np.log(2))
    assert fig.axes[0].get_ylabel() == "entropy $h(p)$ [nats]"


def test_binary_entropy_rejects_bad_p():
    with pytest.raises(ValueError, match="p must"):
        binary_entropy(p=1.5)


def test_entropy_vs_temperature_matches_scipy():
    ts = np.geomspace(0.1, 10, 20)
    curve, hmax, point = entropy_vs_temperature(logits=Z, temperature=2.0, temperatures=ts).axes[0].get_lines()
    np.testing.assert_allclose(curve.get_ydata(), [scipy_entropy(scipy_softmax(Z / t), base=2) for t in ts], atol=1e-12)
    np.testing.assert_allclose(hmax.get_ydata(), [np.log2(10)] * 2)
    np.testing.assert_allclose(point.get_ydata(), [scipy_entropy(scipy_softmax(Z / 2.0), base=2)])
    assert np.all(np.diff(curve.get_ydata()) > 0)  # entropy of softmax(z/T) increases with T


def test_prediction_entropy_bars_and_legend():
    probs = np.array([[0.9, 0.05, 0.05], [0.4, 0.3, 0.3]])
    fig = prediction_entropy(probs=probs, names=["confident", "uncertain"])
    np.testing.assert_allclose([patch.get_height() for patch in fig.axes[0].patches], probs.ravel())
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"{scipy_entropy(probs[0], base=2):.3f}" in labels[0]


def test_prediction_entropy_rejects_name_mismatch():
    with pytest.raises(ValueError, match="names"):
        prediction_entropy(probs=[[0.5, 0.5]], names=["a", "b"])


def test_explorers_redraw():
    explorer = binary_entropy.explorer()
    before = figure_data(explorer.figure)
    explorer.controls["p"].value = 0.3
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(before, figure_data(explorer.figure)))
    explorer = entropy_vs_temperature.explorer()
    explorer.controls["temperature"].value = 5.0
    point = explorer.figure.axes[0].get_lines()[2]
    np.testing.assert_allclose(point.get_ydata(), [scipy_entropy(scipy_softmax(Z / 5.0), base=2)])


def test_entropy_temperature_slider_frames():
    fig = entropy_vs_temperature.online()
    assert len(fig.layout.sliders[0].steps) == len(TEMPERATURES) and len(fig.data) == 3 * len(TEMPERATURES)
    ys = [tr.y[0] for tr in fig.data[2::3]]
    np.testing.assert_allclose(ys, [scipy_entropy(scipy_softmax(Z / t), base=2) for t in TEMPERATURES], atol=1e-12)
    assert fig.layout.xaxis.type == "log"


def test_binary_entropy_slider_frames():
    fig = binary_entropy.online()
    assert len(fig.layout.sliders[0].steps) == 21
    points = [tr for tr in fig.data if tr.mode == "markers"]
    np.testing.assert_allclose([tr.y[0] for tr in points], [h2(p) for p in np.linspace(0, 1, 21)], atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(logits=st.lists(st.floats(-30, 30), min_size=2, max_size=8))
def test_entropy_curve_between_bounds(logits):
    z = np.array(logits)
    ts = np.geomspace(0.1, 10, 15)
    curve = entropy_vs_temperature(logits=z, temperature=None, temperatures=ts).axes[0].get_lines()[0].get_ydata()
    plt.close("all")
    assert np.all(curve >= -1e-12) and np.all(curve <= np.log2(z.size) + 1e-9)
    # entropy never decreases with the temperature (dH/dT = Var/T^3 >= 0)
    assert np.all(np.diff(curve) >= -1e-9)
