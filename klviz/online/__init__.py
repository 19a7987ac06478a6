"""Kernel-free interactive figures for readers of the web book.

A chapter's central explorer also exists as a Plotly figure whose slider switches between
traces precomputed with the same :mod:`klviz` functions as the static figure. The built
book serves plotly.js from its own static files (no CDN); in a local notebook the figure
is shown with Plotly's own renderer.
"""

from klviz.online.base import show, slider_figure

__all__ = ["show", "slider_figure"]
