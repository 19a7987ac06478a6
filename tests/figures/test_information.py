"""Figures of chapter ``ch-information``: klviz.figures.information."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from klviz.figures.information import bernoulli_divergences, dpi_chain, pinsker_gap, quantisation


def test_bernoulli_curves_are_the_divergences_and_pinsker_holds():
    lines = bernoulli_divergences(p=0.3).axes[0].get_lines()
    kl, tv, pinsker = lines[0], lines[5], lines[6]
    q = kl.get_xdata()
    np.testing.assert_allclose(kl.get_ydata(), [stats.entropy([0.3, 0.7], [a, 1 - a]) for a in q], rtol=1e-10)
    np.testing.assert_allclose(tv.get_ydata(), np.abs(0.3 - q), atol=1e-12)
    assert np.all(pinsker.get_ydata() >= tv.get_ydata() - 1e-12)


def test_pinsker_points_lie_under_the_curve():
    fig = pinsker_gap(n_pairs=200)
    pts = fig.axes[0].collections[0].get_offsets()
    assert np.all(pts[:, 1] <= np.sqrt(pts[:, 0] / 2) + 1e-12)


def test_dpi_curves():
    xy, xz = dpi_chain(flip_2=0.2).axes[0].get_lines()[:2]
    assert np.all(xz.get_ydata() <= xy.get_ydata() + 1e-12)
    # I(X;Y) = 1 - h(eps) bits for a uniform bit through a BSC
    e = xy.get_xdata()[1:-1]
    h = -(e * np.log2(e) + (1 - e) * np.log2(1 - e))
    np.testing.assert_allclose(xy.get_ydata()[1:-1], 1 - h, atol=1e-12)


def test_quantisation_approaches_the_differential_entropy():
    line = quantisation(sigmas=(1.0,)).axes[0].get_lines()[0]
    assert line.get_ydata()[0] == pytest.approx(0.5 * math.log(2 * math.pi * math.e), abs=1e-5)


def test_bad_inputs():
    with pytest.raises(ValueError, match="flip_2"):
        dpi_chain(flip_2=1.5)
    with pytest.raises(ValueError, match="sigmas"):
        quantisation(sigmas=(0.0,))
