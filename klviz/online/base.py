"""Plotly figures with a slider over precomputed traces."""

from __future__ import annotations

import html
import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any

from klviz.plots.style import PALETTE

_ids = itertools.count()


def in_book_build() -> bool:
    """True while the Jupyter Book build executes the notebooks (set by the book's extension)."""
    return os.environ.get("KLVIZ_BOOK_BUILD") == "1"


def slider_figure(
    frame_fn: Callable[[float], Sequence[dict[str, Any]]],
    values: Sequence[float],
    *,
    slider_label: str,
    title: str = "",
    xaxis_title: str = "",
    yaxis_title: str = "",
    active: int | None = None,
    value_format: str = "{:g}",
    yaxis_range: Sequence[float] | None = None,
    xaxis_range: Sequence[float] | None = None,
    height: int = 420,
):
    """A Plotly figure whose slider shows ``frame_fn(v)`` for each ``v`` in ``values``.

    ``frame_fn`` returns a list of trace specifications: dicts with ``x``, ``y`` and
    optionally ``name``, ``mode`` ("lines", "markers", "lines+markers"), ``type``
    ("scatter" or "bar") and ``dash``. Every frame must return the same number of traces.
    All traces are embedded in the page; the slider toggles their visibility, so no
    kernel and no server are needed.
    """
    import plotly.graph_objects as go

    values = list(values)
    if not values:
        raise ValueError("values: give at least one slider value")
    frames = [list(frame_fn(v)) for v in values]
    n = len(frames[0])
    if any(len(f) != n for f in frames):
        raise ValueError("frame_fn must return the same number of traces for every value")
    active = len(values) // 2 if active is None else active
    fig = go.Figure()
    for i, traces in enumerate(frames):
        for j, spec in enumerate(traces):
            kind = spec.get("type", "scatter")
            common = dict(
                x=list(spec["x"]),
                y=list(spec["y"]),
                name=spec.get("name", f"trace {j}"),
                visible=(i == active),
                showlegend=spec.get("showlegend", True),
            )
            color = spec.get("color", PALETTE[j % len(PALETTE)])
            if kind == "bar":
                fig.add_trace(go.Bar(marker_color=color, **common))
            else:
                fig.add_trace(
                    go.Scatter(
                        mode=spec.get("mode", "lines"),
                        line=dict(color=color, dash=spec.get("dash", "solid"), width=2.5),
                        marker=dict(color=color, size=7),
                        **common,
                    )
                )
    steps = []
    for i, v in enumerate(values):
        visible = [False] * (n * len(values))
        visible[i * n : (i + 1) * n] = [True] * n
        steps.append(dict(method="restyle", args=[{"visible": visible}], label=value_format.format(v)))
    fig.update_layout(
        title=title,
        xaxis_title=xaxis_title,
        yaxis_title=yaxis_title,
        template="plotly_white",
        height=height,
        margin=dict(l=60, r=20, t=50, b=40),
        sliders=[dict(active=active, currentvalue=dict(prefix=f"{slider_label} = "), pad=dict(t=40), steps=steps)],
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
    if yaxis_range is not None:
        fig.update_yaxes(range=list(yaxis_range))
    if xaxis_range is not None:
        fig.update_xaxes(range=list(xaxis_range))
    return fig


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
