"""ipywidgets explorers for readers who run the chapters locally.

:func:`explorer_for` turns a :class:`~klviz.viz.declare.FigureSpec` into an :class:`Explorer`:
one slider per declared parameter, built from the parameter's grid and default, redrawing the
spec's static figure.  So the explorer and the static figure are the same drawing.  Tests set
``explorer.controls[name].value`` and read :func:`figure_data` of ``explorer.figure``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["Explorer", "explorer_for", "slider_for", "figure_data"]


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
    title:
        A heading shown above the controls.
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
        self.title = title
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


def slider_for(param, grid: Sequence[float], value: float):
    """The ipywidgets slider of one parameter: an Int/FloatSlider with the grid's first value,
    last value and step when the grid is evenly spaced, else a SelectionSlider over the grid."""
    import ipywidgets as widgets

    common = dict(description=param.label, continuous_update=False)
    step = param.step(grid)
    if step is None:
        options = [(param.label_of(v), v) for v in grid]
        return widgets.SelectionSlider(options=options, value=value, **common)
    if all(isinstance(v, int) for v in grid) and isinstance(step, int):
        return widgets.IntSlider(value=value, min=grid[0], max=grid[-1], step=step, **common)
    return widgets.FloatSlider(value=value, min=grid[0], max=grid[-1], step=step, **common)


def explorer_for(spec, **given: Any) -> Explorer:
    """The explorer of a declared figure; ``given`` overrides inputs and the sliders' start."""
    if not spec.params:
        raise ValueError(f"{spec.id} declares no parameters; there is nothing to explore")
    values = spec.values(**given)
    controls = {}
    for p in spec.params:
        grid = p.grid(values)
        controls[p.name] = slider_for(p, grid, p.on_grid(values[p.name], grid))
    fixed = {k: v for k, v in values.items() if k not in controls}
    return Explorer(spec.figure, controls, fixed=fixed)


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
