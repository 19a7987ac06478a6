"""klviz.viz.mpl_plotly: every kind of artist the book draws becomes the same Plotly trace."""

from __future__ import annotations

import numpy as np
import pytest

from klviz.viz.mpl_plotly import axis_names, convert_figure, plain_text
from klviz.viz.style import offscreen_axes


def _one(draw, **kw):
    fig, (ax,) = offscreen_axes(1)
    draw(ax)
    traces, layout = convert_figure(fig, **kw)
    return ax, traces, layout


@pytest.mark.parametrize("text, plain", [
    ("no maths", "no maths"),
    (r"$\sigma$ = 1", "σ = 1"),
    (r"reverse $D_{\mathrm{KL}}(q\|p)$", "reverse D<sub>KL</sub>(q‖p)"),
    (r"$\mathrm{softmax}(z/T)_k$", "softmax(z/T)<sub>k</sub>"),
    (r"$T^2\,\mathrm{KL}$", "T<sup>2</sup>\u2009KL"),
    (r"$\bar z_s$", "z\u0304<sub>s</sub>"),
    (r"$\partial\mathcal{L}/\partial o$", "∂ℒ/∂o"),
    (r"costs \$5", "costs $5"),
])
def test_plain_text(text, plain):
    assert plain_text(text) == plain


def test_lines_keep_data_style_and_legend():
    x = np.linspace(0, 1, 11)
    ax, traces, _ = _one(lambda ax: (ax.plot(x, x**2, "o--", color="#D55E00", label="$x^2$"),
                                     ax.plot(x, x, label="_hidden"), ax.legend()))
    first, second = traces
    np.testing.assert_array_equal(first["y"], x**2)
    assert first["mode"] == "lines+markers" and first["line"]["dash"] == "dash"
    assert first["line"]["color"] == "rgba(213,94,0,1)" and first["marker"]["symbol"] == "circle"
    assert first["name"] == "x<sup>2</sup>" and first["showlegend"] is True
    assert second["showlegend"] is False


def test_no_legend_means_no_legend_entries():
    _ax, traces, _ = _one(lambda ax: ax.plot([0, 1], [0, 1], label="named"))
    assert traces[0]["showlegend"] is False


def test_reference_lines_span_the_final_limits():
    def draw(ax):
        ax.axhline(0.5, linestyle=":")
        ax.axvline(2.0)
        ax.set_xlim(-1, 3)
        ax.set_ylim(0, 4)

    _ax, (h, v), layout = _one(draw)
    np.testing.assert_allclose(h["x"], [-1, 3])
    np.testing.assert_allclose(h["y"], [0.5, 0.5])
    assert h["line"]["dash"] == "dot"
    np.testing.assert_allclose(v["y"], [0, 4])
    assert layout["xaxis"]["range"] == [-1.0, 3.0] and layout["yaxis"]["range"] == [0.0, 4.0]


def test_bars_fills_spans_vlines_and_scatter():
    def draw(ax):
        ax.bar([0, 1, 2], [0.2, 0.5, 0.3], width=0.4, bottom=0.1, color=["r", "g", "b"], label="bars")
        ax.fill_between([0, 1, 2], [0, 0, 0], [1, 2, 1], color="0.7", alpha=0.5, label="band")
        ax.axvspan(0.5, 1.5, color="b", alpha=0.1)
        ax.vlines([0, 1], 0, [0.5, 1.0], linestyle="--")
        ax.scatter([1.0], [2.0], s=36)

    _ax, traces, _ = _one(draw)
    kinds = sorted((t["type"], t.get("fill", ""), t.get("mode", "")) for t in traces)
    assert kinds == [("bar", "", ""), ("scatter", "", "lines"), ("scatter", "", "markers"),
                     ("scatter", "toself", "lines"), ("scatter", "toself", "lines")]
    bar = next(t for t in traces if t["type"] == "bar")
    assert bar["x"] == [0.0, 1.0, 2.0] and bar["y"] == pytest.approx([0.2, 0.5, 0.3]) and bar["base"] == [0.1] * 3
    assert bar["width"] == pytest.approx([0.4] * 3) and bar["marker"]["color"][1] == "rgba(0,128,0,1)"
    vlines = next(t for t in traces if t.get("mode") == "lines" and "fill" not in t)
    assert vlines["x"] == [0.0, 0.0, None, 1.0, 1.0] and vlines["line"]["dash"] == "dash"
    band = next(t for t in traces if t["name"] == "band")
    assert band["fillcolor"].endswith(",0.5)") and {0.0, 1.0, 2.0} <= set(band["y"])
    dot = next(t for t in traces if t.get("mode") == "markers")
    assert dot["x"] == [1.0] and dot["marker"]["size"] == pytest.approx(6 * 96 / 72)


def test_log_axes_ticks_texts_and_titles():
    def draw(ax):
        ax.plot([1, 100], [1, 2])
        ax.set_xscale("log")
        ax.set_xticks([1, 10, 100], ["one", "ten", "$10^2$"])
        ax.text(0.25, 0.75, r"$\log 2$", transform=ax.transAxes, rotation=90, ha="center")
        ax.set_title("a title")
        ax.set_xlabel("$T$")

    _ax, _traces, layout = _one(draw)
    xa = layout["xaxis"]
    assert xa["type"] == "log" and xa["range"] == pytest.approx([0.0, 2.0], abs=0.2)
    assert xa["tickvals"] == [1.0, 10.0, 100.0] and xa["ticktext"] == ["one", "ten", "10<sup>2</sup>"]
    assert xa["title"]["text"] == "T" and layout["title"]["text"] == "a title"
    (note,) = layout["annotations"]
    assert note["text"] == "log 2" and note["textangle"] == -90.0 and note["xanchor"] == "center"
    assert (note["x"], note["y"]) == pytest.approx((0.25, 0.75)) and note["xref"] == "x domain"


def test_panels_become_axis_pairs_side_by_side_under_one_title():
    fig, axes = offscreen_axes(2, figsize=(10.0, 3.0))
    for i, ax in enumerate(axes):
        ax.plot([0, 1], [i, i])
        ax.set_title(f"panel {i}")
    fig.suptitle("both")
    traces, layout = convert_figure(fig)
    assert [(t["xaxis"], t["yaxis"]) for t in traces] == [axis_names(0), axis_names(1)] == [("x", "y"), ("x2", "y2")]
    assert layout["title"]["text"] == "both"
    assert layout["xaxis"]["domain"][1] < layout["xaxis2"]["domain"][0]
    assert [a["text"] for a in layout["annotations"]] == ["panel 0", "panel 1"]


def test_long_lines_are_thinned_keeping_both_ends_and_infinities_become_gaps():
    x = np.linspace(0, 1, 1001)
    y = x.copy()
    y[500] = np.inf
    _ax, (line,), _ = _one(lambda ax: ax.plot(x, y), max_points=100)
    assert len(line["x"]) <= 101 and line["x"][0] == 0.0 and line["x"][-1] == 1.0
    assert None in line["y"]
