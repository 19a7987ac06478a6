"""The one explorer class all chapters share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np


class Explorer:
    """Controls wired to a plot function that returns a matplotlib figure.

    Parameters
    ----------
    plot_fn:
        Called as ``plot_fn(**fixed, **{name: control.value})``; must return a
        :class:`matplotlib.figure.Figure`.
    controls:
        Mapping from the plot function's keyword to an ipywidgets control.
    fixed:
        Keyword arguments passed unchanged on every call.
    """

    def __init__(
        self,
        plot_fn: Callable[..., Any],
        controls: Mapping[str, Any],
        *,
        fixed: Mapping[str, Any] | None = None,
        title: str | None = None,
    ) -> None:
        import ipywidgets as widgets

        self.plot_fn = plot_fn
        self.controls = dict(controls)
        self.fixed = dict(fixed or {})
        self.output = widgets.Output()
        children = []
        if title:
            children.append(widgets.HTML(f"<b>{title}</b>"))
        children += [*self.controls.values(), self.output]
        self.widget = widgets.VBox(children)
        self.figure = None
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def values(self) -> dict[str, Any]:
        """The current keyword arguments of the plot function."""
        return {**self.fixed, **{k: c.value for k, c in self.controls.items()}}

    def update(self) -> None:
        """Redraw the figure with the controls' current values."""
        from IPython.display import display

        if self.figure is not None:
            plt.close(self.figure)
        self.figure = self.plot_fn(**self.values())
        self.output.clear_output(wait=True)
        with self.output:
            display(self.figure)
        # the figure lives in the Output widget; closing it stops a second inline copy
        plt.close(self.figure)

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self.update()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def figure_data(fig) -> list[np.ndarray]:
    """Every data array drawn on a figure (lines, collections, images, bars), for tests."""
    arrays: list[np.ndarray] = []
    for ax in fig.axes:
        for line in ax.get_lines():
            arrays.append(np.asarray(line.get_xydata(), dtype=float))
        for coll in ax.collections:
            offsets = coll.get_offsets()
            if len(offsets):
                arrays.append(np.asarray(offsets, dtype=float))
            for path in coll.get_paths():
                arrays.append(np.asarray(path.vertices, dtype=float))
        for image in ax.get_images():
            arrays.append(np.asarray(image.get_array(), dtype=float))
        for patch in ax.patches:
            arrays.append(np.asarray(patch.get_extents().get_points(), dtype=float))
        for text in ax.texts:
            arrays.append(np.frombuffer(text.get_text().encode(), dtype=np.uint8).astype(float))
    return arrays
