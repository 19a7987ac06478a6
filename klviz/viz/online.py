"""Kernel-free interactive figures for readers of the web book.

:func:`online_figure` renders a :class:`~klviz.viz.declare.FigureSpec` as a Plotly figure
with one slider: it draws the static matplotlib figure at every value of the slider's grid
(in a figure pyplot never sees), converts each drawing with
:func:`klviz.viz.mpl_plotly.convert_figure`, embeds every frame and lets the slider switch
their visibility and the frame's title, limits and texts (Plotly's ``update`` method).  No
kernel and no server are needed.  The built book serves plotly.js from its own static files
(no CDN): :func:`show` emits the HTML there, and returns the figure for Plotly's own
renderer in a local notebook.
"""

from __future__ import annotations

import html
import itertools
import os
from collections.abc import Mapping
from typing import Any

from klviz.viz.mpl_plotly import convert_figure
from klviz.viz.style import offscreen_axes

__all__ = ["in_book_build", "online_figure", "show"]

_ids = itertools.count()


def in_book_build() -> bool:
    """True while the Jupyter Book build executes the notebooks (set by the book's extension)."""
    return os.environ.get("KLVIZ_BOOK_BUILD") == "1"


def _flatten(layout: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    # Plotly's update method takes dotted paths ("xaxis.range"); lists stay whole
    out: dict[str, Any] = {}
    for key, value in layout.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def online_figure(spec, *, max_points: int = 400, **given: Any):
    """The Plotly slider figure of ``spec`` over its :attr:`~klviz.viz.declare.FigureSpec.online_param`
    (the first parameter by default); ``given`` overrides inputs and the slider's start."""
    import plotly.graph_objects as go

    if not spec.params:
        raise ValueError(f"{spec.id} declares no parameters; there is no slider to draw")
    values = spec.values(**given)
    param = spec.param(spec.online_param or spec.params[0].name)
    grid = param.grid(values)
    active = grid.index(param.on_grid(values[param.name], grid))
    frames = []
    for v in grid:
        fig, axes = offscreen_axes(spec.panels, figsize=spec.figsize)
        spec.figure(ax=axes[0] if spec.panels == 1 else axes, **{**values, param.name: v})
        frames.append(convert_figure(fig, max_points=max_points))
    height_in = float(fig.get_size_inches()[1])
    figure = go.Figure()
    blocks = []
    for i, (traces, _layout) in enumerate(frames):
        start = len(figure.data)
        for trace in traces:
            figure.add_trace(dict(trace, visible=(i == active)))
        blocks.append((start, len(figure.data)))
    total = len(figure.data)
    steps = []
    for (start, stop), (_traces, layout), v in zip(blocks, frames, grid):
        visible = [start <= k < stop for k in range(total)]
        steps.append(dict(method="update", label=param.label_of(v), value=repr(v),
                          args=[{"visible": visible}, _flatten(layout)]))
    figure.update_layout(
        frames[active][1],
        template="plotly_white",
        height=int(100 * height_in) + 150,
        margin=dict(l=60, r=20, t=90, b=40),
        barmode="overlay",
        sliders=[dict(active=active, currentvalue=dict(prefix=f"{param.label} = "), pad=dict(t=50), steps=steps)],
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
    return figure


def show(fig, *, alt: str):
    """Display a Plotly figure: self-contained HTML in the book, Plotly's renderer locally.

    ``alt`` describes the figure for screen readers (it becomes the ``aria-label``).
    """
    if not alt or not alt.strip():
        raise ValueError("alt: describe what the figure shows, for readers who cannot see it")
    if not in_book_build():
        return fig
    from IPython.display import HTML

    div_id = f"klviz-online-{next(_ids)}"
    body = fig.to_html(
        full_html=False,
        include_plotlyjs=False,  # served from the book's _static (no CDN)
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return HTML(
        f'<figure class="klviz-online" role="img" aria-label="{html.escape(alt, quote=True)}">{body}</figure>'
    )
