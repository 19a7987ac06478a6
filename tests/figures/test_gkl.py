"""Figures of chapter ``ch-gkl`` (IKL and GKL): klviz.figures.gkl."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from klviz.figures.gkl import convergence, student_gradients
from klviz.gradients import student_gradients as gradients_of
from klviz.viz import figure_data


def test_student_gradients_bars():
    fig = student_gradients(gamma=0.5, temperature=4.0)
    assert isinstance(fig, Figure)
    heights = np.array([p.get_height() for p in fig.axes[0].patches])
    expected = np.concatenate(list(gradients_of(0.5, temperature=4.0).values()))
    np.testing.assert_allclose(heights, expected, atol=1e-12)
    assert fig.axes[0].get_title() == "Student gradient, T = 4, γ = 0.5"


def test_explorer_has_two_sliders_and_the_web_slider_is_over_gamma():
    explorer = student_gradients.explorer()
    gamma, temperature = explorer.controls["gamma"], explorer.controls["temperature"]
    assert (gamma.min, gamma.max, gamma.step, gamma.value) == (0.25, 2.0, 0.25, 0.5)
    assert (temperature.min, temperature.max, temperature.step, temperature.value) == (1.0, 8.0, 1.0, 4.0)
    before = figure_data(explorer.figure)
    temperature.value = 2.0
    assert any(not np.allclose(a, b) for a, b in zip(before, figure_data(explorer.figure)))
    fig = student_gradients.online()
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [f"{0.25 * k:g}" for k in range(1, 9)]
    # KL does not depend on gamma, GKL does: compare the first and the last frame
    first = [t for t, on in zip(fig.data, steps[0].args[0]["visible"]) if on]
    last = [t for t, on in zip(fig.data, steps[-1].args[0]["visible"]) if on]
    np.testing.assert_allclose(first[0].y, last[0].y)
    assert not np.allclose(first[2].y, last[2].y)
    np.testing.assert_allclose(last[2].y, gradients_of(2.0, temperature=4.0)["GKL, sample weights"], atol=1e-12)


def test_convergence_mean_and_band():
    res = {"a": {"step": np.array([0, 10, 20]), "accuracy": np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.9]])}}
    fig = convergence(results=res)
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.6, 0.9])
    assert len(fig.axes[0].collections) == 1 and fig.axes[0].get_ylabel() == "accuracy"
    with pytest.raises(ValueError, match="metric"):
        convergence(results=res, metric="kl")
