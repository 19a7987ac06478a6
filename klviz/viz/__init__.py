"""Figures declared once, rendered three ways, in one book style.

A chapter figure is one :class:`FigureSpec` in a topic module of :mod:`klviz.figures`:
its title and axis labels, its slider parameters (:class:`Param`: one grid, one default),
a data function (pure computation from the computation modules) and a matplotlib drawing.

- ``spec(**values)`` -- the static matplotlib figure (the book's captioned figure);
- ``spec.explorer(**values)`` -- the ipywidgets :class:`Explorer` for local readers;
- ``show(spec.online(**values), alt=...)`` -- the kernel-free Plotly slider of the web book.

Why the web figure is *converted* rather than declared a second time: the Plotly renderer
draws the same matplotlib figure at every grid value and converts the drawn artists
(:mod:`klviz.viz.mpl_plotly`), so a figure is written once, in the matplotlib every
contributor knows, and the three renderings cannot disagree about curves, titles, labels,
limits or grid.  The price is a converter that knows the artists the book uses (lines, bars,
patches, line/path/polygon collections, texts); an unknown kind of artist would be missing
from the web figure, which the per-declaration test catches by comparing trace counts.
"""

from klviz.viz.declare import REQUIRED, FigureSpec, Param, figure_title
from klviz.viz.explorer import Explorer, figure_data
from klviz.viz.online import show
from klviz.viz.style import PALETTE, apply_style, book_style, new_axes, new_axes_row

__all__ = [
    "REQUIRED",
    "FigureSpec",
    "Param",
    "figure_title",
    "Explorer",
    "figure_data",
    "show",
    "PALETTE",
    "apply_style",
    "book_style",
    "new_axes",
    "new_axes_row",
]
