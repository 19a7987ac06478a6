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
    for _traces, layout in frames:
        _widen_panel_gaps(layout)
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
    title_lines = max(str(layout["title"].get("text") or "").count("<br>") + 1 for _t, layout in frames)
    height = int(100 * height_in) + 150
    figure.update_layout(frames[active][1], template="plotly_white", height=height, barmode="overlay")
    figure.update_layout(_reader_layout(height, title_lines))
    figure.update_layout(sliders=[dict(active=active, currentvalue=dict(prefix=f"{param.label} = "),
                                       pad=dict(t=SLIDER_GAP_PX), steps=steps)])
    return figure


# The reader's view: every box in its own band, top to bottom -- the title in the top margin,
# the legend (horizontal, as many rows as it needs) below it, then the plot area with its axis
# titles, then the slider.  Title and legend are placed in pixels from the top of the figure
# (``container`` coordinates) and the legend pushes the plot down (Plotly's automargin), so a
# long legend cannot run into the title or the plot; the slider hangs below the x-axis title.
TITLE_TOP_PX = 10
TITLE_LINE_PX = 22  # one line of the 16 px title font
LEGEND_GAP_PX = 10
SLIDER_GAP_PX = 60  # from the plot area's bottom edge: clears the x tick labels and the axis title
PANEL_GAP = 0.15  # between panels side by side, as a fraction of the plot width: room for y labels


def _reader_layout(height: int, title_lines: int) -> dict:
    legend_top = TITLE_TOP_PX + TITLE_LINE_PX * title_lines + LEGEND_GAP_PX
    return dict(
        title=dict(xref="container", x=0, xanchor="left", yref="container", y=1, yanchor="top",
                   pad=dict(l=12, t=TITLE_TOP_PX), font=dict(size=16)),
        legend=dict(orientation="h", xref="container", x=0, xanchor="left",
                    yref="container", y=1 - legend_top / height, yanchor="top"),
        margin=dict(l=60, r=20, t=legend_top + LEGEND_GAP_PX, b=40),
    )


def _widen_panel_gaps(layout: dict) -> None:
    # matplotlib spaces panels for its own (wider) canvas; at the book's width the y-axis title
    # of a panel would run into its left neighbour, so the gaps become PANEL_GAP, widths scaled
    names = sorted((k for k in layout if k.startswith("xaxis") and "domain" in layout[k]),
                   key=lambda k: layout[k]["domain"][0])
    if len(names) < 2:
        return
    lo, hi = layout[names[0]]["domain"][0], layout[names[-1]]["domain"][1]
    widths = [layout[k]["domain"][1] - layout[k]["domain"][0] for k in names]
    scale = (hi - lo - PANEL_GAP * (len(names) - 1)) / sum(widths)
    x = lo
    for k, w in zip(names, widths):
        layout[k]["domain"] = [x, x + w * scale]
        x += w * scale + PANEL_GAP


def show(fig, *, alt: str):
    """Display a Plotly figure: self-contained HTML in the book, Plotly's renderer locally.

    ``alt`` describes the figure for screen readers (it becomes the ``aria-label``).
    """
    if not isinstance(alt, str):
        raise TypeError(f"alt must be a str describing the figure, got {type(alt).__name__}")
    if not alt.strip():
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
