"""klviz.viz.online: the kernel-free Plotly slider of a declaration, and show() for the book."""

from __future__ import annotations

import numpy as np
import pytest

from klviz.viz import FigureSpec, Param, show
from klviz.viz.mpl_plotly import plain_text


def _data(slope, n):
    x = np.linspace(0.0, 1.0, n)
    return {"x": x, "y": slope * x, "end": slope}


def _draw(ax, data, values):
    ax.plot(data["x"], data["y"], label="line")
    ax.bar([0.5], [data["end"]], width=0.2, label="bar")
    ax.set_ylim(0, 1.1 * data["end"])
    ax.legend()


SPEC = FigureSpec(
    id="toy-online", title="slope {slope:g}: end {end:.1f}", xlabel="$x$", ylabel="$y$",
    params=(Param("slope", "k", (1.0, 2.0, 3.0), default=2.0), Param.range("n", "n", start=3, stop=5, step=1)),
    inputs={"colour": None}, data=lambda slope, n, colour: _data(slope, n), draw=_draw,
)


def test_one_frame_per_grid_value_and_the_default_active():
    fig = SPEC.online()
    slider = fig.layout.sliders[0]
    assert [s.label for s in slider.steps] == ["1", "2", "3"]
    assert [float(s.value) for s in slider.steps] == [1.0, 2.0, 3.0]
    assert slider.active == 1 and slider.currentvalue.prefix == "k = "
    assert len(fig.data) == 6  # a line and a bar per frame
    assert [bool(t.visible) for t in fig.data] == [False, False, True, True, False, False]
    assert fig.layout.title.text == "slope 2: end 2.0"
    bar, line = fig.data[2:4]  # drawn in z-order: patches below lines
    assert bar.type == "bar" and list(bar.y) == [2.0]
    np.testing.assert_allclose(line.y, 2.0 * np.linspace(0, 1, 3))


def test_each_step_shows_its_frame_with_its_title_and_limits():
    fig = SPEC.online()
    for i, step in enumerate(fig.layout.sliders[0].steps):
        visible, layout = step.args
        assert visible["visible"] == [k // 2 == i for k in range(6)]
        assert layout["title.text"] == f"slope {i + 1}: end {i + 1:.1f}"
        assert layout["yaxis.range"] == pytest.approx([0, 1.1 * (i + 1)])
        assert layout["xaxis.title.text"] == "x"


def test_given_values_override_the_defaults_and_must_lie_on_the_grid():
    fig = SPEC.online(slope=3.0, n=4)
    assert fig.layout.sliders[0].active == 2 and len(fig.data[1].x) == 4
    with pytest.raises(ValueError, match="slope: 2.5 is not on the slider grid"):
        SPEC.online(slope=2.5)
    with pytest.raises(TypeError, match="no argument"):
        SPEC.online(slop=2.0)


def test_online_param_picks_the_slider():
    spec = FigureSpec(id="toy-n", title="n = {n}", data=SPEC.data, draw=_draw, params=SPEC.params,
                      inputs=SPEC.inputs, online_param="n")
    fig = spec.online()
    assert [s.label for s in fig.layout.sliders[0].steps] == ["3", "4", "5"]
    assert fig.layout.title.text == plain_text("n = 3")


def test_a_figure_without_parameters_has_no_slider():
    spec = FigureSpec(id="toy-static", title=None, data=lambda: _data(1.0, 3), draw=_draw)
    with pytest.raises(ValueError, match="no parameters"):
        spec.online()


def test_show_needs_alt_text_and_emits_local_html_in_the_book(monkeypatch):
    fig = SPEC.online()
    with pytest.raises(ValueError, match="alt"):
        show(fig, alt="  ")
    monkeypatch.delenv("KLVIZ_BOOK_BUILD", raising=False)
    assert show(fig, alt="a line and bars") is fig  # Plotly's own renderer locally
    monkeypatch.setenv("KLVIZ_BOOK_BUILD", "1")
    html = show(fig, alt='a "quoted" line').data
    assert 'aria-label="a &quot;quoted&quot; line"' in html
    assert "cdn" not in html.lower() and "<script" in html  # plotly.js comes from the book's _static


def test_title_legend_plot_and_slider_each_get_their_own_band():
    # pixel placement is checked in the built book (tests/test_browser.py); here the layout
    # that produces it: title and legend in pixels from the top, the legend below the title
    # and inside the top margin, which it may push down, the slider below the plot
    fig = SPEC.online()
    title, legend = fig.layout.title, fig.layout.legend
    assert (title.yref, title.y, title.yanchor) == ("container", 1, "top")
    assert (legend.yref, legend.yanchor, legend.orientation) == ("container", "top", "h")
    title_bottom = title.pad.t + 22
    legend_top = (1 - legend.y) * fig.layout.height
    assert title_bottom < legend_top < fig.layout.margin.t
    slider = fig.layout.sliders[0]
    assert slider.pad.t >= 50 and (slider.y is None or slider.y <= 0)


def test_panels_side_by_side_are_spread_apart():
    def draw(axes, data, values):
        for ax in axes:
            ax.plot(data["x"], data["y"])

    spec = FigureSpec(id="toy-panels", title="two", data=SPEC.data, draw=draw, params=SPEC.params,
                      inputs=SPEC.inputs, panels=2)
    fig = spec.online()
    left, right = fig.layout.xaxis.domain, fig.layout.xaxis2.domain
    assert right[0] - left[1] == pytest.approx(0.15)
    assert right[1] - right[0] == pytest.approx(left[1] - left[0])
    for step in fig.layout.sliders[0].steps:
        assert step.args[1]["xaxis2.domain"][0] - step.args[1]["xaxis.domain"][1] == pytest.approx(0.15)
