"""The shared machinery of the explorers: klviz.online (Plotly sliders), klviz.widgets.base,
klviz.notation and the book style."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from klviz.notation import MACROS, macros_cell_source, mathjax3_macros, newcommands
from klviz.online.base import show, slider_figure
from klviz.plots.style import new_axes
from klviz.widgets import Explorer, figure_data


def frames(v):
    x = np.linspace(0, 1, 5)
    return [{"x": x, "y": v * x, "name": "line"}, {"x": x, "y": x**v, "type": "bar", "name": "bars"}]


def test_slider_figure_embeds_every_frame_and_toggles_visibility():
    fig = slider_figure(frames, [1.0, 2.0, 3.0], slider_label="v", active=1)
    assert len(fig.data) == 6
    assert [t.visible for t in fig.data] == [False, False, True, True, False, False]
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["1", "2", "3"]
    assert steps[2].args[0]["visible"] == [False, False, False, False, True, True]
    np.testing.assert_allclose(fig.data[4].y, 3 * np.linspace(0, 1, 5))


def test_slider_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="values"):
        slider_figure(frames, [], slider_label="v")
    with pytest.raises(ValueError, match="same number of traces"):
        slider_figure(lambda v: frames(v)[: int(v)], [1, 2], slider_label="v")


def test_show_needs_alt_text_and_emits_local_html_in_the_book(monkeypatch):
    fig = slider_figure(frames, [1.0, 2.0], slider_label="v")
    with pytest.raises(ValueError, match="alt"):
        show(fig, alt="  ")
    monkeypatch.delenv("KLVIZ_BOOK_BUILD", raising=False)
    assert show(fig, alt="a line and bars") is fig  # Plotly's own renderer locally
    monkeypatch.setenv("KLVIZ_BOOK_BUILD", "1")
    html = show(fig, alt='a "quoted" line').data
    assert 'aria-label="a &quot;quoted&quot; line"' in html
    assert "cdn" not in html.lower() and "<script" in html  # plotly.js comes from the book's _static


def test_explorer_redraws_when_a_control_moves():
    import ipywidgets as widgets

    def plot(slope, ax=None):
        fig, ax = new_axes(ax)
        ax.plot([0, 1], [0, slope])
        return fig

    ex = Explorer(plot, {"slope": widgets.FloatSlider(value=1.0, min=0, max=5)}, title="t")
    before = figure_data(ex.figure)
    ex.controls["slope"].value = 3.0
    after = figure_data(ex.figure)
    assert ex.values() == {"slope": 3.0}
    np.testing.assert_allclose(before[0][:, 1], [0, 1])
    np.testing.assert_allclose(after[0][:, 1], [0, 3])


def test_book_style_keeps_interactive_mode(monkeypatch):
    # Jupyter's inline backend switches interactive mode on while the first figure is created;
    # leaving the style's rc_context must not switch it off again (later figures would vanish)
    import matplotlib.pyplot as plt

    real = plt.subplots

    def inline_like_subplots(*args, **kwargs):
        matplotlib.interactive(True)
        return real(*args, **kwargs)

    was = matplotlib.is_interactive()
    monkeypatch.setattr(plt, "subplots", inline_like_subplots)
    try:
        matplotlib.interactive(False)
        new_axes()
        assert matplotlib.is_interactive()
    finally:
        matplotlib.interactive(was)


def test_notation_forms_agree():
    mj = mathjax3_macros()
    assert set(mj) == set(MACROS)
    assert mj["KL"] == [MACROS["KL"][0], 2] and mj["E"] == MACROS["E"][0]
    lines = newcommands().splitlines()
    assert len(lines) == len(MACROS)
    assert r"\newcommand{\KL}[2]{" in lines[0]
    assert macros_cell_source().startswith("$$\n") and macros_cell_source().endswith("\n$$")


def test_new_axes_row_makes_or_checks_panels():
    from klviz.plots.style import new_axes_row

    fig, axes = new_axes_row(ncols=3)
    assert len(axes) == 3 and all(a.figure is fig for a in axes)
    assert new_axes_row(axes, ncols=3) == (fig, axes)
    with pytest.raises(ValueError, match="ax: give 2 axes"):
        new_axes_row(axes)
