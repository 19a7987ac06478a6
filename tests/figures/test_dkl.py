"""Figures of chapter ``ch-dkl`` (the DKL decomposition): klviz.figures.dkl, checked against the
closed forms of the two gradient halves."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.special import softmax as scipy_softmax

from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS
from klviz.figures.dkl import cancellation, dkl_gradients, wmse_cost

O_M, O_N = np.array(DKL_TEACHER_LOGITS), np.array(DKL_STUDENT_LOGITS)


def _closed_forms(T):
    s_m, s_n = scipy_softmax(O_M / T), scipy_softmax(O_N / T)
    d = (O_M - O_N) / T
    return T * s_m * (d - s_m @ d), T * (s_n - s_m), s_m


@pytest.mark.parametrize("T", [0.5, 2.0, 4.0])
def test_dkl_gradients_draws_the_closed_forms(T):
    fig = dkl_gradients(temperature=T)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    g_m, g_n, s_m = _closed_forms(T)
    heights = np.array([p.get_height() for p in ax.patches])
    np.testing.assert_allclose(heights, np.concatenate([g_m, g_n]), atol=1e-12)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), s_m, rtol=1e-12)
    assert ax.get_ylim() == (-1.0, 1.0)


def test_one_grid_for_explorer_and_slider():
    grid = dkl_gradients.param("temperature").grid()
    assert grid == tuple(0.5 * k for k in range(1, 21))
    explorer = dkl_gradients.explorer()
    slider = explorer.controls["temperature"]
    assert (slider.min, slider.max, slider.step, slider.value) == (0.5, 10.0, 0.5, 4.0)
    fig = dkl_gradients.online()
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(grid) and fig.layout.sliders[0].active == grid.index(4.0)
    # the frame at T = 1 shows the gradients at T = 1
    i = grid.index(1.0)
    shown = [t for t, on in zip(fig.data, steps[i].args[0]["visible"]) if on]
    g_m, g_n, _ = _closed_forms(1.0)
    bars = [np.asarray(t.y, dtype=float) for t in shown if t.type == "bar"]
    np.testing.assert_allclose(bars[0], g_m, atol=1e-12)
    np.testing.assert_allclose(bars[1], g_n, atol=1e-12)


def test_wmse_cost_and_cancellation():
    fig = wmse_cost(sizes=[10, 100], fast=[1.0, 2.0], brute=[3.0, 40.0], ylabel="bytes")
    ys = sorted(tuple(line.get_ydata()) for line in fig.axes[0].get_lines())
    assert ys == [(1.0, 2.0), (3.0, 40.0)] and fig.axes[0].get_ylabel() == "bytes"
    fig = cancellation(offsets=[1.0, 10.0], errors={"a": [1e-5, 1e-3], "b": [0.0, 1e-5]})
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [1e-5, 1e-3])
    # exact zeros are drawn at machine epsilon, not dropped from the log axis
    assert lines[1].get_ydata()[0] == pytest.approx(np.finfo(np.float32).eps)
    with pytest.raises(ValueError, match="same length"):
        wmse_cost(sizes=[10, 100], fast=[1.0], brute=[3.0, 4.0], ylabel="s")
    with pytest.raises(ValueError, match="one value per offset"):
        cancellation(offsets=[1.0, 10.0], errors={"a": [1e-5]})
