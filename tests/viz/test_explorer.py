"""klviz.viz.explorer: the ipywidgets explorer of a declaration."""

from __future__ import annotations

import numpy as np
import pytest

from klviz.viz import Explorer, FigureSpec, Param, figure_data, new_axes


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


def _draw(ax, data, values):
    ax.plot([0, 1], [0, data])


SPEC = FigureSpec(
    id="toy-explorer", title="{t} {n} {w}", data=lambda t, n, w, k: t * n * w * k, draw=_draw, inputs={"k": 1.0},
    params=(Param.range("t", "T", start=0.5, stop=2.0, step=0.5, default=1.0),
            Param.range("n", "n", start=2, stop=8, step=2, default=4),
            Param("w", "w", (0.1, 0.2, 0.5), default=0.2)),
)


def test_sliders_come_from_the_declared_grids():
    ex = SPEC.explorer(k=2.0)
    t, n, w = (ex.controls[k] for k in "tnw")
    assert type(t).__name__ == "FloatSlider" and (t.min, t.max, t.step, t.value) == (0.5, 2.0, 0.5, 1.0)
    assert type(n).__name__ == "IntSlider" and (n.min, n.max, n.step, n.value) == (2, 8, 2, 4)
    assert type(w).__name__ == "SelectionSlider" and list(w.options) == [("0.1", 0.1), ("0.2", 0.2), ("0.5", 0.5)] and w.value == 0.2
    assert ex.fixed == {"k": 2.0} and t.description == "T"
    ex.controls["w"].value = 0.5
    assert ex.figure.axes[0].get_title() == "1.0 4 0.5"
    np.testing.assert_allclose(figure_data(ex.figure)[0][:, 1], [0, 1.0 * 4 * 0.5 * 2.0])


def test_explorer_start_must_be_on_the_grid():
    assert SPEC.explorer(t=2.0).controls["t"].value == 2.0
    with pytest.raises(ValueError, match="not on the slider grid"):
        SPEC.explorer(t=0.7)
    static = FigureSpec(id="toy-static-explorer", title=None, data=lambda: 1.0, draw=_draw)
    with pytest.raises(ValueError, match="nothing to explore"):
        static.explorer()
