"""Matplotlib figures shared by the chapters, in one style.

One submodule per topic; every public function takes an optional ``ax`` and returns the
:class:`matplotlib.figure.Figure` it drew on, so the ipywidgets explorers in
:mod:`klviz.widgets` can redraw the same figure with new slider values.
"""

from klviz.plots.style import PALETTE, book_style, new_axes, new_axes_row

__all__ = ["PALETTE", "book_style", "new_axes", "new_axes_row"]
