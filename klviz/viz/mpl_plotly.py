r"""Convert a drawn matplotlib figure into Plotly traces and layout, artist by artist.

The web slider (:mod:`klviz.viz.online`) draws the declared figure with matplotlib at every
grid value and converts what was drawn, so the web figure cannot drift from the static one:
same curves, bars, fills, markers, reference lines, texts, legend labels, axis labels, limits,
scales, ticks and title.  Converted: :class:`~matplotlib.lines.Line2D` (``plot``, ``axhline``,
``axvline``), bar containers, other patches (``axvspan``, ``hist(histtype="step")``), line
collections (``vlines``, ``hlines``, error bars), path collections (``scatter``), polygon
collections (``fill_between``) and texts.  Artists are converted in data coordinates whatever
their transform (an ``axhline`` spans the final x-limits).  Mathtext (``$\sigma$``) becomes
Unicode with ``<sub>``/``<sup>`` tags, which Plotly renders without MathJax.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.container import BarContainer
from matplotlib.ticker import FixedLocator

from klviz import _checks as checks

__all__ = ["plain_text", "convert_figure", "axis_names"]

# mpl line widths and marker sizes are in points, Plotly's in CSS pixels
_PX_PER_PT = 96.0 / 72.0

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Delta": "Δ", "Sigma": "Σ",
    "Omega": "Ω", "Gamma": "Γ", "nabla": "∇", "partial": "∂", "infty": "∞", "pm": "±",
    "times": "×", "cdot": "·", "to": "→", "rightarrow": "→", "leftarrow": "←", "le": "≤",
    "leq": "≤", "ge": "≥", "geq": "≥", "approx": "≈", "propto": "∝", "neq": "≠", "star": "⋆",
    "sum": "Σ", "log": "log", "exp": "exp", "ln": "ln", "max": "max", "min": "min", "|": "‖",
    ",": "\u2009", ";": " ", "!": "", " ": " ", "quad": "  ", "ell": "ℓ", "dots": "…", "ldots": "…",
    "mid": "|", "in": "∈", "sim": "∼", "%": "%",
}
_FONTS = {"mathcal": {"L": "ℒ", "D": "𝒟", "N": "𝒩"}}
_MARKERS = {"o": "circle", "s": "square", "^": "triangle-up", "v": "triangle-down", "D": "diamond",
            "d": "diamond-tall", "x": "x", "+": "cross", "*": "star", ".": "circle", "p": "pentagon",
            "h": "hexagon", "<": "triangle-left", ">": "triangle-right"}
_DASHES = {"-": "solid", "--": "dash", ":": "dot", "-.": "dashdot"}


def _math(s: str) -> str:
    # \cmd{arg} for font and text commands: keep the argument
    def font(m: re.Match) -> str:
        table = _FONTS.get(m.group(1), {})
        return "".join(table.get(ch, ch) for ch in m.group(2))

    s = re.sub(r"\\(mathrm|text|operatorname|mathbf|mathit|mathcal|mathsf|boldsymbol)\{([^{}]*)\}", font, s)
    s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", s)
    s = re.sub(r"\\bar\s*\{?(\w)\}?", "\\1\u0304", s)
    s = re.sub(r"\\hat\s*\{?(\w)\}?", "\\1\u0302", s)
    s = re.sub(r"\\(left|right|big|Big)\b", "", s)
    s = re.sub(r"\\(partial|nabla) +", lambda m: _SYMBOLS[m.group(1)], s)  # "\partial o" reads "∂o", as TeX sets it
    s = re.sub(r"\\([A-Za-z]+|.)", lambda m: _SYMBOLS.get(m.group(1), m.group(1)), s)
    s = re.sub(r"_\{([^{}]*)\}", r"<sub>\1</sub>", s)
    s = re.sub(r"\^\{([^{}]*)\}", r"<sup>\1</sup>", s)
    s = re.sub(r"_(\S)", r"<sub>\1</sub>", s)
    s = re.sub(r"\^(\S)", r"<sup>\1</sup>", s)
    return s.replace("{", "").replace("}", "").replace("-", "−")


def plain_text(s: str | None) -> str:
    r"""A matplotlib label as Plotly text: ``$...$`` mathtext turned into Unicode and
    ``<sub>``/``<sup>`` (``"$\sigma$ = 1"`` -> ``"σ = 1"``); other text unchanged."""
    if not s:
        return ""
    parts = re.split(r"(?<!\\)\$", s)
    return "".join(_math(p) if i % 2 else p.replace("\\$", "$") for i, p in enumerate(parts))


def _colour(c: Any, alpha: float | None = None) -> str:
    r, g, b, a = mcolors.to_rgba(c)
    a = a if alpha is None else alpha
    return f"rgba({round(255 * r)},{round(255 * g)},{round(255 * b)},{a:.3g})"


def _finite(values: Iterable[float]) -> list[float | None]:
    # JSON has no NaN or inf: Plotly leaves a gap at None
    return [float(v) if math.isfinite(v) else None for v in values]


def _to_data(ax, transform, xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if transform is ax.transData or not len(xy):
        return xy
    with np.errstate(all="ignore"):
        return ax.transData.inverted().transform(transform.transform(xy))


def _thin(xy: np.ndarray, max_points: int) -> np.ndarray:
    if len(xy) <= max_points:
        return xy
    stride = math.ceil(len(xy) / max_points)
    # keep the gaps (NaN, inf) so a thinned curve breaks where the drawn one does
    gaps = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    keep = np.r_[np.arange(0, len(xy), stride), len(xy) - 1, gaps]
    return xy[np.unique(keep)]


def _dash_of(dashes: Sequence[float] | None, width: float) -> str:
    # a collection stores its dash pattern scaled by the line width, not its name
    if not dashes:
        return "solid"
    if len(dashes) >= 4:
        return "dashdot"
    return "dot" if dashes[0] < 2.0 * max(width, 1e-9) else "dash"


def _legend(artist) -> tuple[str, bool]:
    label = artist.get_label() or ""
    shown = bool(label) and not label.startswith("_")
    return (plain_text(label) if shown else ""), shown


def _line_trace(ax, line, max_points: int) -> dict | None:
    xy = _thin(_to_data(ax, line.get_transform(), line.get_xydata()), max_points)
    if not len(xy) or not line.get_visible():
        return None
    style = line.get_linestyle()
    marker = line.get_marker()
    has_line = style not in ("None", "", " ", None)
    has_marker = marker not in ("None", "", " ", None)
    color = _colour(line.get_color(), line.get_alpha())
    name, shown = _legend(line)
    trace = dict(type="scatter", x=_finite(xy[:, 0]), y=_finite(xy[:, 1]), name=name, showlegend=shown,
                 mode="+".join(m for m, on in (("lines", has_line), ("markers", has_marker)) if on) or "none",
                 line=dict(color=color, width=line.get_linewidth() * _PX_PER_PT, dash=_DASHES.get(style, "solid")))
    if has_marker:
        trace["marker"] = dict(color=_colour(line.get_markerfacecolor(), line.get_alpha()),
                               size=line.get_markersize() * _PX_PER_PT, symbol=_MARKERS.get(str(marker), "circle"))
    return trace


def _bar_trace(container: BarContainer) -> dict:
    rects = container.patches
    horizontal = getattr(container, "orientation", "vertical") == "horizontal"
    pos = [r.get_y() + r.get_height() / 2 if horizontal else r.get_x() + r.get_width() / 2 for r in rects]
    # datavalues are the heights as given (a rectangle stores top - bottom, off by rounding)
    size = getattr(container, "datavalues", None)
    if size is None or len(size) != len(rects):
        size = [r.get_width() if horizontal else r.get_height() for r in rects]
    base = [r.get_x() if horizontal else r.get_y() for r in rects]
    thick = [r.get_height() if horizontal else r.get_width() for r in rects]
    name, shown = _legend(container)
    trace = dict(type="bar", name=name, showlegend=shown, base=_finite(base), width=_finite(thick),
                 marker=dict(color=[_colour(r.get_facecolor()) for r in rects], line=dict(width=0)),
                 orientation="h" if horizontal else "v")
    trace.update(x=_finite(size), y=_finite(pos)) if horizontal else trace.update(x=_finite(pos), y=_finite(size))
    return trace


def _polygons_trace(polys: list[np.ndarray], *, face, edge, width: float, dash: str, label_of,
                    max_points: int) -> dict | None:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for poly in polys:
        poly = _thin(poly, max_points)
        if xs:
            xs.append(None)
            ys.append(None)
        xs += _finite(poly[:, 0])
        ys += _finite(poly[:, 1])
    if not xs:
        return None
    name, shown = _legend(label_of)
    filled = face is not None and mcolors.to_rgba(face)[3] > 0
    trace = dict(type="scatter", x=xs, y=ys, mode="lines", name=name, showlegend=shown,
                 line=dict(color=_colour(edge) if width > 0 else "rgba(0,0,0,0)", width=width, dash=dash))
    if filled:
        trace.update(fill="toself", fillcolor=_colour(face))
    return trace


def _patch_trace(ax, patch, max_points: int) -> dict | None:
    polys = [_to_data(ax, patch.get_transform(), p) for p in patch.get_path().to_polygons(closed_only=False)]
    return _polygons_trace(
        polys, face=patch.get_facecolor() if patch.get_fill() else None, edge=patch.get_edgecolor(),
        width=patch.get_linewidth() * _PX_PER_PT, dash=_DASHES.get(patch.get_linestyle(), "solid"),
        label_of=patch, max_points=max_points)


def _collection_trace(ax, coll, max_points: int) -> dict | None:
    if not coll.get_visible():
        return None
    widths = coll.get_linewidths()
    width = float(widths[0]) if len(widths) else 0.0
    if isinstance(coll, PathCollection):
        xy = _to_data(ax, coll.get_offset_transform(), coll.get_offsets())
        faces = coll.get_facecolors()
        sizes = coll.get_sizes()
        name, shown = _legend(coll)
        return dict(type="scatter", mode="markers", x=_finite(xy[:, 0]), y=_finite(xy[:, 1]), name=name,
                    showlegend=shown,
                    marker=dict(color=[_colour(c) for c in faces] if len(faces) > 1 else _colour(faces[0]),
                                size=float(np.sqrt(sizes[0])) * _PX_PER_PT if len(sizes) else 6.0))
    if isinstance(coll, LineCollection):
        polys = [_to_data(ax, coll.get_transform(), seg) for seg in coll.get_segments()]
        colours = coll.get_colors()
        _offset, dashes = coll.get_linestyles()[0] if len(coll.get_linestyles()) else (0, None)
        return _polygons_trace(polys, face=None, edge=colours[0] if len(colours) else "k",
                               width=width * _PX_PER_PT, dash=_dash_of(dashes, width), label_of=coll,
                               max_points=max_points)
    transform = coll.get_transform()
    polys = [_to_data(ax, transform, p) for path in coll.get_paths() for p in path.to_polygons(closed_only=False)]
    faces = coll.get_facecolors()
    edges = coll.get_edgecolors()
    return _polygons_trace(polys, face=faces[0] if len(faces) else None,
                           edge=edges[0] if len(edges) else "k", width=width * _PX_PER_PT, dash="solid",
                           label_of=coll, max_points=max_points)


def _text_annotation(ax, text, xref: str, yref: str) -> dict | None:
    if not text.get_text() or not text.get_visible():
        return None
    x, y = ax.transAxes.inverted().transform(text.get_transform().transform(text.get_position()))
    anchors = {"baseline": "bottom", "center_baseline": "middle", "center": "middle"}
    return dict(text=plain_text(text.get_text()), x=float(x), y=float(y), xref=f"{xref} domain",
                yref=f"{yref} domain", showarrow=False, xanchor=text.get_ha(),
                yanchor=anchors.get(text.get_va(), text.get_va()), textangle=-float(text.get_rotation()),
                font=dict(color=_colour(text.get_color()), size=float(text.get_fontsize()) * _PX_PER_PT))


def _axis_layout(ax, which: str) -> dict:
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    log = (ax.get_xscale() if which == "x" else ax.get_yscale()) == "log"
    out: dict[str, Any] = dict(title=dict(text=plain_text(axis.get_label_text())), zeroline=False,
                               type="log" if log else "linear",
                               range=[math.log10(lo), math.log10(hi)] if log else [float(lo), float(hi)])
    locator = axis.get_major_locator()
    if isinstance(locator, FixedLocator):
        locs = [v for v in locator() if min(lo, hi) <= v <= max(lo, hi)]
        out.update(tickvals=[float(v) for v in locs],
                   ticktext=[plain_text(t) for t in axis.get_major_formatter().format_ticks(locs)])
    return out


def axis_names(index: int) -> tuple[str, str]:
    """Plotly's names of the ``index``-th pair of axes: ``("x", "y")``, ``("x2", "y2")``, ..."""
    suffix = "" if index == 0 else str(index + 1)
    return f"x{suffix}", f"y{suffix}"


def convert_figure(fig, *, max_points: int = 400) -> tuple[list[dict], dict]:
    """``(traces, layout)`` of a drawn matplotlib figure: Plotly trace dicts in drawing order
    (z-order, then creation) and a nested layout dict with the title, one x/y axis pair per
    axes (domains side by side), legend visibility and the texts as annotations.  Lines with
    more than ``max_points`` points are thinned evenly (first and last point kept)."""
    max_points = checks.integer(max_points, "max_points", low=2, hint="points kept per line")
    traces: list[dict] = []
    annotations: list[dict] = []
    layout: dict[str, Any] = {}
    axes = fig.axes
    for i, ax in enumerate(axes):
        xref, yref = axis_names(i)
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        in_bars = {id(p) for c in bars for p in c.patches}
        drawn: list[tuple[float, int, dict | None]] = []
        for k, line in enumerate(ax.get_lines()):
            drawn.append((line.get_zorder(), k, _line_trace(ax, line, max_points)))
        for k, container in enumerate(bars, start=10_000):
            drawn.append((container.patches[0].get_zorder() if container.patches else 1, k, _bar_trace(container)))
        for k, patch in enumerate(ax.patches, start=20_000):
            if id(patch) not in in_bars:
                drawn.append((patch.get_zorder(), k, _patch_trace(ax, patch, max_points)))
        for k, coll in enumerate(ax.collections, start=30_000):
            drawn.append((coll.get_zorder(), k, _collection_trace(ax, coll, max_points)))
        legend = ax.get_legend() is not None
        for _z, _k, trace in sorted((d for d in drawn if d[2] is not None), key=lambda d: (d[0], d[1])):
            trace.update(xaxis=xref, yaxis=yref)
            trace["showlegend"] = trace["showlegend"] and legend
            traces.append(trace)
        annotations += [a for a in (_text_annotation(ax, t, xref, yref) for t in ax.texts) if a]
        xa, ya = _axis_layout(ax, "x"), _axis_layout(ax, "y")
        if len(axes) > 1:
            box = ax.get_position()
            xa.update(domain=[float(box.x0), float(box.x1)], anchor=yref)
            ya.update(domain=[0.0, 1.0], anchor=xref)
            if ax.get_title():
                annotations.append(dict(text=plain_text(ax.get_title()), x=0.5, y=1.0, xref=f"{xref} domain",
                                        yref=f"{yref} domain", showarrow=False, xanchor="center",
                                        yanchor="bottom", font=dict(size=13)))
        layout[f"xaxis{xref[1:]}"] = xa
        layout[f"yaxis{yref[1:]}"] = ya
    title = fig.get_suptitle() or (axes[0].get_title() if len(axes) == 1 else "")
    layout["title"] = dict(text=plain_text(title))
    layout["annotations"] = annotations
    return traces, layout
