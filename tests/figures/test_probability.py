"""Figures of chapter ``ch-probability`` (Probability and the softmax): klviz.figures.probability."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy.special import softmax as scipy_softmax

from klviz.examples import TEN_CLASS_LOGITS
from klviz.figures.probability import TEMPERATURES, pmf, softmax_bars, softmax_vs_temperature
from klviz.viz import figure_data

Z = np.array(TEN_CLASS_LOGITS)


def test_pmf_draws_probabilities_and_mean():
    x, p = np.arange(1, 7), np.full(6, 1 / 6)
    fig = pmf(outcomes=x, probs=p)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_xydata(), np.column_stack([x, p]))
    np.testing.assert_allclose(ax.get_lines()[1].get_xdata(), [3.5, 3.5])
    assert pmf(outcomes=x, probs=p, xlabel="face $x$").axes[0].get_xlabel() == "face $x$"


def test_pmf_rejects_unnormalised():
    with pytest.raises(ValueError, match="probs"):
        pmf(outcomes=[0, 1], probs=[0.5, 0.6])


@pytest.mark.parametrize("t", [0.3, 1.0, 4.0])
def test_softmax_bars_match_scipy(t):
    fig = softmax_bars(logits=Z, temperature=t)
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    np.testing.assert_allclose(heights, scipy_softmax(Z / t), rtol=1e-12)
    p = scipy_softmax(Z / t)
    assert fig.axes[0].get_title() == f"T = {t:g}: top class 3 has p = {p.max():.3f}"


def test_softmax_bars_uses_given_axes():
    fig, ax = plt.subplots()
    assert softmax_bars(temperature=1.0, ax=ax) is fig


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_softmax_bars_reject_bad_temperature(bad):
    with pytest.raises(ValueError, match="temperature"):
        softmax_bars(temperature=bad)


def test_softmax_vs_temperature_curves():
    ts = np.geomspace(0.1, 10, 25)
    lines = softmax_vs_temperature(logits=Z, temperatures=ts).axes[0].get_lines()
    # the first line is the arg-max class (3); it must match scipy at every T
    np.testing.assert_allclose(lines[0].get_xdata(), ts)
    np.testing.assert_allclose(lines[0].get_ydata(), [scipy_softmax(Z / t)[3] for t in ts], rtol=1e-12)
    # the curves of all 10 classes sum to 1 at every temperature
    np.testing.assert_allclose(sum(line.get_ydata() for line in lines[: Z.size]), 1.0, rtol=1e-12)


def test_explorer_redraws_on_temperature_change():
    explorer = softmax_bars.explorer()
    before = figure_data(explorer.figure)
    explorer.controls["temperature"].value = 5.0
    after = figure_data(explorer.figure)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    heights = [patch.get_height() for patch in explorer.figure.axes[0].patches]
    np.testing.assert_allclose(heights, scipy_softmax(Z / 5.0), rtol=1e-12)


def test_online_slider_has_a_frame_per_temperature():
    fig = softmax_bars.online()
    assert [s.label for s in fig.layout.sliders[0].steps] == [f"{t:g}" for t in TEMPERATURES]
    bars = [tr for tr in fig.data if tr.type == "bar"]
    assert len(bars) == len(TEMPERATURES)
    for tr, t in zip(bars, TEMPERATURES):
        np.testing.assert_allclose(tr.y, scipy_softmax(Z / t), rtol=1e-12)
    assert list(fig.layout.xaxis.ticktext) == [str(k) for k in range(10)]
    assert sum(bool(tr.visible) for tr in fig.data) == 2  # the bars and the uniform line


@settings(max_examples=25, deadline=None)
@given(
    logits=st.lists(st.floats(-50, 50), min_size=2, max_size=8),
    shift=st.floats(-100, 100),
    t=st.floats(0.05, 20),
)
def test_softmax_bars_sum_to_one_and_ignore_shifts(logits, shift, t):
    z = np.array(logits)
    heights = np.array([patch.get_height() for patch in softmax_bars(logits=z, temperature=t).axes[0].patches])
    shifted = softmax_bars(logits=z + shift, temperature=t).axes[0].patches
    shifted_heights = np.array([patch.get_height() for patch in shifted])
    plt.close("all")
    assert np.isclose(heights.sum(), 1.0)
    np.testing.assert_allclose(heights, shifted_heights, atol=1e-9)
