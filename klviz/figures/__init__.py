"""The book's figures, one module per topic, each figure declared once as a
:class:`klviz.viz.FigureSpec` (see :mod:`klviz.viz` for the three renderers).

A notebook imports the topic module and renders a declaration::

    from klviz.figures import probability
    fig = probability.softmax_bars(temperature=1.0)        # static, captioned figure
    probability.softmax_bars.explorer()                    # ipywidgets, local readers
    show(probability.softmax_bars.online(), alt="...")     # kernel-free Plotly slider

:func:`declarations` finds every declaration of every topic module, so tests cover new
figures without a list to update.
"""

from __future__ import annotations

import importlib
import pkgutil

from klviz.viz.declare import FigureSpec

__all__ = ["declarations", "topics"]


def topics() -> list[str]:
    """The names of the topic modules of :mod:`klviz.figures`."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def declarations() -> dict[str, FigureSpec]:
    """Every :class:`FigureSpec` defined in a topic module, by id (ids are unique)."""
    found: dict[str, FigureSpec] = {}
    for name in topics():
        module = importlib.import_module(f"{__name__}.{name}")
        for value in vars(module).values():
            if isinstance(value, FigureSpec) and found.get(value.id) is not value:
                if value.id in found:
                    raise ValueError(f"figure id {value.id!r} is declared twice (again in {module.__name__})")
                found[value.id] = value
    return found
