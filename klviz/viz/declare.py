"""A figure declared once: its parameters, its data function and its matplotlib drawing.

A :class:`FigureSpec` is the single source of a chapter figure.  It names

- the figure: ``id``, ``title``, ``xlabel``, ``ylabel`` (format templates, see below);
- its slider parameters: :class:`Param` (name, label, ONE grid of values, default);
- its fixed inputs (``inputs``: name -> default; :data:`REQUIRED` when a caller must give it);
- ``data(**inputs, **params) -> data``: pure computation, calling computation modules
  (:mod:`klviz.info`, :mod:`klviz.fitting`, ...); return a mapping so the titles can quote it;
- ``draw(ax, data, values)``: the matplotlib drawing (``ax`` is one Axes, or a tuple of
  ``panels`` Axes); it leaves the title and the axis labels to the declaration.

Titles and labels are :meth:`str.format` templates filled with the parameter and input
values and, when ``data`` is a mapping, its entries: ``"T = {temperature:g}: p = {top_p:.3f}"``.

Three renderers read the same declaration: :meth:`FigureSpec.figure` (the static matplotlib
figure; calling the spec does the same), :meth:`FigureSpec.explorer` (ipywidgets, in
:mod:`klviz.viz.explorer`) and :meth:`FigureSpec.online` (the kernel-free Plotly slider, in
:mod:`klviz.viz.online`).
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from klviz import _checks as checks
from klviz.viz.style import new_axes, new_axes_row

__all__ = ["REQUIRED", "Param", "FigureSpec", "figure_title"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Marks an input that has no default: the caller must pass it.
REQUIRED: Any = _Required()

# grid values are rounded to this many decimals so 0.1 * 3 reads 0.3 on every renderer
_DECIMALS = 10
#: the most steps a slider grid may have (a longer grid would freeze the page and the build)
_MAX_GRID = 2000


@dataclass(frozen=True)
class Param:
    """One slider parameter: its keyword ``name``, its ``label`` on the slider, ONE grid of
    ``values`` (or a function of the inputs returning it, for grids that depend on the data)
    and its ``default`` (a grid value; ``None`` is the first).  ``fmt`` formats a value for the
    slider's read-out.  Build an evenly spaced grid with :meth:`Param.range`."""

    name: str
    label: str
    values: Sequence[float] | Callable[[Mapping[str, Any]], Sequence[float]]
    default: float | None = None
    fmt: str = "{:g}"

    @classmethod
    def range(cls, name: str, label: str, *, start: float, stop: float, step: float,
              default: float | None = None, fmt: str = "{:g}") -> Param:
        """Evenly spaced values ``start, start + step, ..., stop`` (``stop`` included)."""
        # ints given -> an int grid (an IntSlider); floats stay floats even when whole
        integral = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, step))
        step = checks.positive(step, "step")
        n = checks.number((stop - start) / step, "stop", low=0, hint="give stop >= start")
        count = round(n)
        if count > _MAX_GRID:
            raise ValueError(f"step: a slider of {count + 1} values is too many; use at most {_MAX_GRID + 1}")
        if not math.isclose(count, n, abs_tol=1e-9):
            raise ValueError(f"stop: ({stop} - {start}) must be a whole number of steps of {step}")
        values = tuple(int(round(start + i * step)) if integral else round(start + i * step, _DECIMALS)
                       for i in range(count + 1))
        return cls(name, label, values, default, fmt)

    def grid(self, inputs: Mapping[str, Any] | None = None) -> tuple[float, ...]:
        """The grid of values (evaluated on ``inputs`` when it depends on them)."""
        values = self.values(inputs or {}) if callable(self.values) else self.values
        values = tuple(values)
        if not values:
            raise ValueError(f"{self.name}: the grid of values is empty; give at least one value")
        return values

    def default_in(self, grid: Sequence[float]) -> float:
        """The default value, checked to lie on ``grid``."""
        return self.on_grid(grid[0] if self.default is None else self.default, grid)

    def on_grid(self, value: float, grid: Sequence[float]) -> float:
        """``value`` as the grid value it equals (to rounding); ValueError if it is off the grid."""
        for v in grid:
            if v == value or (isinstance(value, (int, float)) and math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12)):
                return v
        raise ValueError(f"{self.name}: {value!r} is not on the slider grid {list(grid)}; "
                         f"pick one of these values or declare another grid")

    def step(self, grid: Sequence[float]) -> float | None:
        """The common step of an evenly spaced grid, else ``None``."""
        if len(grid) < 2:
            return None
        step = grid[1] - grid[0]
        if step <= 0:
            return None
        ok = all(math.isclose(b - a, step, rel_tol=1e-6, abs_tol=1e-12) for a, b in zip(grid, grid[1:]))
        return (int(step) if float(step).is_integer() and all(isinstance(v, int) for v in grid)
                else round(step, _DECIMALS)) if ok else None

    def label_of(self, value: float) -> str:
        """The slider read-out of one value."""
        return self.fmt.format(value)


# eq=False: a declaration is one object (hashed and compared by identity), its inputs a dict
@dataclass(frozen=True, eq=False)
class FigureSpec:
    """One figure, declared once (see the module docstring).  Calling the spec draws the static
    figure: ``spec(**values, ax=None)`` returns a :class:`matplotlib.figure.Figure`."""

    id: str
    title: str | None
    data: Callable[..., Any]
    draw: Callable[[Any, Any, Mapping[str, Any]], None]
    xlabel: str | Sequence[str] | None = None
    ylabel: str | Sequence[str] | None = None
    params: tuple[Param, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    #: inputs for the tests and the docs when some are REQUIRED
    example: Mapping[str, Any] = field(default_factory=dict)
    panels: int = 1
    figsize: tuple[float, float] | None = None
    #: the parameter of the web slider (a Plotly figure has one slider); default: the first
    online_param: str | None = None
    #: what the figure shows: its formula, paper and chapter label (the figure's docstring)
    doc: str = ""

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names) or set(names) & set(self.inputs):
            raise ValueError(f"{self.id}: a parameter or input name is declared twice: {names} / {list(self.inputs)}")
        if self.params and not self.title:
            raise ValueError(f"{self.id}: an interactive figure needs a title (all three renderers show it)")
        if self.online_param is not None and self.online_param not in names:
            raise ValueError(f"online_param: {self.online_param!r} is not one of the parameters {names}")
        checks.positive_int(self.panels, "panels")
        for name in ("title", "xlabel", "ylabel"):
            templates = getattr(self, name)
            for template in [templates] if isinstance(templates, str) else (templates or ()):
                try:
                    list(string.Formatter().parse(template))
                except ValueError as err:
                    raise ValueError(f"{self.id}: {name} {template!r} is not a format template ({err}); "
                                     "double the braces of LaTeX, e.g. r'$D_{{\\mathrm{{KL}}}}$'") from None

    # -- values ---------------------------------------------------------------------------
    def param(self, name: str) -> Param:
        """The parameter called ``name``."""
        for p in self.params:
            if p.name == name:
                return p
        raise ValueError(f"{name!r} is not a parameter of {self.id}; its parameters are {[p.name for p in self.params]}")

    def values(self, **given: Any) -> dict[str, Any]:
        """Every input and parameter value: the defaults, overridden by ``given``."""
        known = {*self.inputs, *(p.name for p in self.params)}
        unknown = set(given) - known
        if unknown:
            raise TypeError(f"{self.id} takes no argument {sorted(unknown)}; it takes {sorted(known)}")
        values = {**self.inputs, **{k: v for k, v in given.items() if k in self.inputs}}
        missing = [k for k, v in values.items() if v is REQUIRED]
        if missing:
            raise TypeError(f"{self.id}: give {missing} (no default)")
        for p in self.params:
            values[p.name] = given[p.name] if p.name in given else p.default_in(p.grid(values))
        return values

    def fields(self, values: Mapping[str, Any], data: Any) -> dict[str, Any]:
        """What the title and label templates may quote: the values and the data's entries."""
        return {**values, **(data if isinstance(data, Mapping) else {})}

    def text(self, template: str | Sequence[str] | None, fields: Mapping[str, Any], index: int = 0) -> str | None:
        """One template (or the ``index``-th of a per-panel sequence) filled with ``fields``."""
        if template is None:
            return None
        if not isinstance(template, str):
            template = tuple(template)[index]
        try:
            return template.format(**fields)
        except KeyError as err:
            raise ValueError(f"{self.id}: {template!r} quotes {{{err.args[0]}}}, which is neither a value nor an "
                             f"entry of the data ({sorted(fields)}); double literal braces: {{{{ }}}}") from None

    # -- the static figure ----------------------------------------------------------------
    def figure(self, ax=None, **given: Any):
        """Draw the figure at the given values (defaults for the rest) and return it."""
        values = self.values(**given)
        if self.panels == 1:
            fig, axes = new_axes(ax, figsize=self.figsize)
            panels: tuple = (axes,)
        else:
            fig, axes = new_axes_row(ax, ncols=self.panels, figsize=self.figsize)
            panels = tuple(axes)
        data = self.data(**values)
        self.draw(axes, data, values)
        fields = self.fields(values, data)
        for i, a in enumerate(panels):
            for template, setter in ((self.xlabel, a.set_xlabel), (self.ylabel, a.set_ylabel)):
                text = self.text(template, fields, i)
                if text is not None:
                    setter(text)
        title = self.text(self.title, fields)
        if title is not None:
            if self.panels == 1:
                panels[0].set_title(title)
            else:
                fig.suptitle(title)
        if self.panels > 1:
            fig.tight_layout()
        return fig

    __call__ = figure

    # -- the two interactive renderers (imported late: ipywidgets and plotly are optional) --
    def explorer(self, **given: Any):
        """The ipywidgets explorer: one slider per parameter, over this figure."""
        from klviz.viz.explorer import explorer_for

        return explorer_for(self, **given)

    def online(self, **given: Any):
        """The kernel-free Plotly figure with a slider over :attr:`online_param`."""
        from klviz.viz.online import online_figure

        return online_figure(self, **given)


def figure_title(fig) -> str:
    """The title of a static figure: its suptitle, else the title of its first axes."""
    if fig.get_suptitle():
        return fig.get_suptitle()
    return fig.axes[0].get_title() if fig.axes else ""
