"""Every figure declared in klviz.figures renders three ways from its ONE declaration.

Found by introspection (:func:`klviz.figures.declarations`), so a new figure is covered without
editing this file: the static figure, the ipywidgets explorer and the Plotly slider take their
title, labels, grid and default from the declaration, moving a slider changes what is drawn, and
the web figure has a trace for every artist of the static one.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import BarContainer

from klviz.figures import declarations
from klviz.viz import figure_data, figure_title
from klviz.viz.mpl_plotly import convert_figure, plain_text

SPECS = declarations()
INTERACTIVE = [s for s in SPECS.values() if s.params]


def ids(spec):
    return spec.id


def expected_texts(spec, **given):
    values = spec.values(**spec.example, **given)
    fields = spec.fields(values, spec.data(**values))
    return values, spec.text(spec.title, fields) or "", fields


def artist_count(fig) -> int:
    total = 0
    for ax in fig.axes:
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        in_bars = {id(p) for c in bars for p in c.patches}
        total += len(ax.lines) + len(bars) + sum(id(p) not in in_bars for p in ax.patches)
        total += len(ax.collections) + len(ax.images)
    return total


def test_declarations_are_found():
    assert SPECS, "klviz.figures declares no figure"
    assert all(spec.id == key for key, spec in SPECS.items())


@pytest.mark.parametrize("spec", SPECS.values(), ids=ids)
def test_static_figure_takes_title_and_labels_from_the_declaration(spec):
    _values, title, fields = expected_texts(spec)
    fig = spec(**spec.example)
    assert figure_title(fig) == title
    for i, ax in enumerate(fig.axes[: spec.panels]):
        if spec.xlabel is not None:
            assert ax.get_xlabel() == spec.text(spec.xlabel, fields, i)
        if spec.ylabel is not None:
            assert ax.get_ylabel() == spec.text(spec.ylabel, fields, i)
    assert len(convert_figure(fig)[0]) == artist_count(fig), "an artist the web renderer cannot convert"


@pytest.mark.parametrize("spec", INTERACTIVE, ids=ids)
def test_explorer_sliders_are_the_declared_grids_and_redraw(spec):
    values, title, _fields = expected_texts(spec)
    explorer = spec.explorer(**spec.example)
    assert figure_title(explorer.figure) == title
    for p in spec.params:
        grid = p.grid(values)
        control = explorer.controls[p.name]
        assert control.value == p.default_in(grid) and control.description == p.label
        if hasattr(control, "options"):
            assert [v for _label, v in control.options] == list(grid)
        else:
            assert (control.min, control.max, control.step) == pytest.approx((grid[0], grid[-1], p.step(grid)))
        if len(grid) > 1:
            before = figure_data(explorer.figure)
            control.value = next(v for v in (grid[-1], grid[0]) if v != control.value)
            after = figure_data(explorer.figure)
            assert len(before) != len(after) or any(
                a.shape != b.shape or not np.allclose(a, b, equal_nan=True) for a, b in zip(before, after)
            ), f"moving {p.name} changed nothing"
            control.value = p.default_in(grid)


@pytest.mark.parametrize("spec", INTERACTIVE, ids=ids)
def test_online_slider_is_the_declared_grid_with_the_declared_titles(spec):
    values, title, _fields = expected_texts(spec)
    param = spec.param(spec.online_param or spec.params[0].name)
    grid = param.grid(values)
    fig = spec.online(**spec.example)
    slider = fig.layout.sliders[0]
    assert [s.label for s in slider.steps] == [param.label_of(v) for v in grid]
    assert [s.value for s in slider.steps] == [repr(v) for v in grid]
    assert slider.active == list(grid).index(param.default_in(grid))
    assert slider.currentvalue.prefix == f"{param.label} = "
    assert fig.layout.title.text == plain_text(title)
    for step, v in zip(slider.steps, grid):
        assert step.args[1]["title.text"] == plain_text(expected_texts(spec, **{param.name: v})[1])
    static = spec(**spec.example)
    shown = [t for t in fig.data if t.visible]
    assert len(shown) == artist_count(static)
    blocks = [[t for t, on in zip(fig.data, step.args[0]["visible"]) if on] for step in slider.steps]
    if len(grid) > 1:
        def arrays(block):
            return [np.asarray(a, dtype=float) for t in block for a in (t.x, t.y) if a is not None]

        first, last = arrays(blocks[0]), arrays(blocks[-1])
        assert len(first) != len(last) or any(
            a.shape != b.shape or not np.allclose(a, b, equal_nan=True) for a, b in zip(first, last)
        ), f"the {param.name} slider shows the same data at both ends"
