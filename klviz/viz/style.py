"""The book's figure style: colour-blind-safe palette, readable in light and dark themes.

Every renderer of :mod:`klviz.viz` draws inside this style, so the static figure, the explorer and
the web slider share colours, fonts and sizes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib as mpl
import matplotlib.pyplot as plt

#: Okabe & Ito's colour-blind-safe palette.
PALETTE: list[str] = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
]

#: the size of a figure of panels side by side (:func:`new_axes_row`)
ROW_FIGSIZE: tuple[float, float] = (11.0, 3.9)

_RC = {
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    # a white figure background keeps figures legible on the dark theme too
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
}


def apply_style() -> None:
    """Apply the book style globally (the chapters call this once)."""
    mpl.rcParams.update(_RC)


@contextlib.contextmanager
def book_style() -> Iterator[None]:
    """Context manager that applies the book style temporarily."""
    with mpl.rc_context(_RC):
        yield


def new_axes(ax=None, *, figsize: tuple[float, float] | None = None):
    """Return ``(fig, ax)``: the given axes and its figure, or a fresh pair in the book style."""
    if ax is not None:
        return ax.figure, ax
    fig, (ax,) = _subplots(1, figsize or _RC["figure.figsize"])
    return fig, ax


def new_axes_row(axes=None, *, ncols: int = 2, figsize: tuple[float, float] | None = None):
    """Return ``(fig, axes)`` for a figure of ``ncols`` panels side by side: the given sequence of
    axes and their figure, or fresh ones in the book style."""
    if axes is not None:
        axes = tuple(axes)
        if len(axes) != ncols:
            raise ValueError(f"ax: give {ncols} axes (one per panel), got {len(axes)}")
        return axes[0].figure, axes
    return _subplots(ncols, figsize or ROW_FIGSIZE)


def offscreen_axes(ncols: int = 1, *, figsize: tuple[float, float] | None = None):
    """Return ``(fig, axes)``: a figure in the book style that pyplot does not track.

    The web renderer draws one such figure per slider value and converts it; pyplot never
    sees it, so a notebook does not display it and nothing needs closing.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with book_style():
        fig = Figure(figsize=figsize or (ROW_FIGSIZE if ncols > 1 else _RC["figure.figsize"]))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, ncols, squeeze=False)
    return fig, tuple(axes[0])


def _subplots(ncols: int, figsize: tuple[float, float]):
    with book_style():
        fig, axes = plt.subplots(1, ncols, figsize=figsize, squeeze=False)
        # the inline backend may switch interactive mode on during the first figure; leaving
        # rc_context would restore it to off and hide every later figure of a notebook
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)
    return fig, tuple(axes[0])
