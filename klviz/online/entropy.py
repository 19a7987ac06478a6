r"""Kernel-free slider figures for chapter ``ch-entropy``, *Entropy*."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import info
from klviz.online.base import slider_figure
from klviz.online.probability import DEFAULT_TEMPERATURES
from klviz.plots.entropy import unit_name
from klviz.examples import TEN_CLASS_LOGITS
from klviz.logits import as_logits

__all__ = ["entropy_temperature_slider", "binary_entropy_slider"]


def entropy_temperature_slider(
    logits: Sequence[float] = TEN_CLASS_LOGITS,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    *,
    base=2,
):
    r"""Plotly curve of :math:`H(\operatorname{softmax}(z/T))` against :math:`\log_{10} T`, with
    a slider that moves a point along it; a dashed line marks the maximum :math:`\log C`.

    Frames use :func:`klviz.info.entropy_from_logits`, as the static figure
    (:func:`klviz.plots.entropy.plot_entropy_vs_temperature`).  Chapter ``ch-entropy`` (Entropy).
    """
    z = as_logits(logits)
    if any(t <= 0 for t in temperatures):
        raise ValueError("temperatures: every value must be > 0")
    unit = unit_name(base)
    grid = np.geomspace(min(temperatures) / 2, max(temperatures) * 2, 200)
    curve = info.entropy_from_logits(z[None, :] / grid[:, None], base=base)
    hmax = float(info.entropy(np.full(z.size, 1.0 / z.size), base=base))
    lg = np.log10(grid).tolist()

    def frame(t: float):
        h = float(info.entropy_from_logits(z, temperature=t, base=base))
        return [
            {"x": lg, "y": curve.tolist(), "name": "H(softmax(z/T))"},
            {"x": [lg[0], lg[-1]], "y": [hmax, hmax], "name": f"log {z.size}", "dash": "dash", "color": "#000000"},
            {"x": [float(np.log10(t))], "y": [h], "mode": "markers", "name": f"T = {t:g}: H = {h:.3f} {unit}"},
        ]

    active = int(np.argmin(np.abs(np.asarray(temperatures, dtype=float) - 1.0)))
    return slider_figure(
        frame,
        temperatures,
        slider_label="T",
        title="Entropy of the softmax of the 10-class logits",
        xaxis_title="log10 of the temperature T",
        yaxis_title=f"entropy [{unit}]",
        yaxis_range=[0, 1.1 * hmax],
        active=active,
    )


def binary_entropy_slider(values: Sequence[float] | None = None, *, base=2):
    r"""Plotly binary entropy curve :math:`h(p)` with a slider moving the point :math:`(p, h(p))`.

    Frames use :func:`klviz.info.binary_entropy`.  Chapter ``ch-entropy`` (Entropy).
    """
    ps = [round(v, 2) for v in np.linspace(0.0, 1.0, 21)] if values is None else list(values)
    grid = np.linspace(0.0, 1.0, 201)
    curve = info.binary_entropy(grid, base=base).tolist()
    unit = unit_name(base)

    def frame(p: float):
        h = float(info.binary_entropy(p, base=base))
        return [
            {"x": grid.tolist(), "y": curve, "name": "h(p)"},
            {"x": [p, 1 - p], "y": [h, h], "mode": "markers", "name": f"h({p:.2f}) = {h:.3f} {unit}"},
        ]

    return slider_figure(
        frame,
        ps,
        slider_label="p",
        title="Binary entropy",
        xaxis_title="probability of heads p",
        yaxis_title=f"entropy [{unit}]",
        yaxis_range=[0, 1.1 * float(info.binary_entropy(0.5, base=base))],
        active=int(np.argmin(np.abs(np.asarray(ps) - 0.9))),
    )
