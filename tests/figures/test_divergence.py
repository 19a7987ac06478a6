"""Figures of chapter ``ch-kl`` (KL divergence): klviz.figures.divergence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from klviz.figures.divergence import kl_blowup, mode_fit, shift_divergence
from klviz.viz import figure_data


def test_mode_fit_shows_mixture_and_two_fits():
    mix, fwd, rev = mode_fit(separation=8.0, weight=0.5).axes[0].get_lines()[:3]
    x = mix.get_xdata()
    ref = 0.5 * stats.norm(-4, 1).pdf(x) + 0.5 * stats.norm(4, 1).pdf(x)
    np.testing.assert_allclose(mix.get_ydata(), ref, atol=1e-12)
    np.testing.assert_allclose(fwd.get_ydata(), stats.norm(0, np.sqrt(17)).pdf(x), atol=1e-5)
    assert abs(abs(x[np.argmax(rev.get_ydata())]) - 4.0) < 0.05  # the reverse fit sits on one mode


def test_kl_blowup_figure():
    fig = kl_blowup(p_rare=0.2)
    forward = fig.axes[0].get_lines()[0]
    eps = forward.get_xdata()
    np.testing.assert_allclose(forward.get_ydata(), [stats.entropy([0.2, 0.8], [e, 1 - e]) for e in eps], rtol=1e-12)
    assert len(fig.axes[0].get_lines()) >= 4
    assert fig.axes[0].get_title() == r"$p$ = (0.2, 0.8),  $q$ = ($\varepsilon$, 1 $-$ $\varepsilon$)"
    assert fig.axes[0].get_xlabel() == r"model probability $\varepsilon = q(\text{rare outcome})$"


def test_shift_divergence_figure():
    w = shift_divergence(max_shift=3.0).axes[0].get_lines()[0].get_xydata()
    np.testing.assert_allclose(w[:, 1], w[:, 0], atol=1e-12)
    with pytest.raises(ValueError, match="max_shift"):
        shift_divergence(max_shift=0.0)


@pytest.mark.parametrize("name, value", [("separation", 2.0), ("weight", 0.2)])
def test_explorer_redraws(name, value):
    ex = mode_fit.explorer()
    before = figure_data(ex.figure)
    ex.controls[name].value = value
    after = figure_data(ex.figure)
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(before, after))


def test_online_slider():
    fig = mode_fit.online()
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [f"{0.5 * i:.1f}" for i in range(17)]
    blocks = [[t for t, on in zip(fig.data, s.args[0]["visible"]) if on] for s in steps]
    # at separation 0 both fits equal the target (the filled area is drawn first)
    _fill, mix, fwd, rev = blocks[0]
    np.testing.assert_allclose(fwd.y, mix.y, atol=1e-6)
    np.testing.assert_allclose(rev.y, mix.y, atol=1e-6)
    assert not np.allclose(blocks[0][1].y, blocks[-1][1].y)
