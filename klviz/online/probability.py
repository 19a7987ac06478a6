r"""Kernel-free slider figures for chapter ``ch-probability``, *Probability and the softmax*."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import info
from klviz.online.base import slider_figure
from klviz.examples import TEN_CLASS_LOGITS
from klviz.logits import as_logits

__all__ = ["DEFAULT_TEMPERATURES", "softmax_temperature_slider"]

#: Slider positions: log-spaced enough to show both limits, round enough to read.
DEFAULT_TEMPERATURES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)


def softmax_temperature_slider(
    logits: Sequence[float] = TEN_CLASS_LOGITS,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
):
    r"""Plotly bars of :math:`\operatorname{softmax}(z/T)` with a slider over :math:`T`.

    Each frame is computed with :func:`klviz.info.softmax`, as the static figure
    (:func:`klviz.plots.probability.plot_softmax_temperature`); a dashed line marks the
    uniform :math:`1/C`.  Chapter ``ch-probability`` (Softmax and temperature).
    """
    z = as_logits(logits)
    classes = list(range(z.size))
    if any(t <= 0 for t in temperatures):
        raise ValueError("temperatures: every value must be > 0")

    def frame(t: float):
        p = info.softmax(z, temperature=t)
        return [
            {"x": classes, "y": p.tolist(), "type": "bar", "name": "softmax(z/T)"},
            {
                "x": [-0.5, z.size - 0.5],
                "y": [1 / z.size] * 2,
                "name": f"uniform 1/{z.size}",
                "dash": "dash",
                "color": "#000000",
            },
        ]

    active = int(np.argmin(np.abs(np.asarray(temperatures, dtype=float) - 1.0)))
    return slider_figure(
        frame,
        temperatures,
        slider_label="T",
        title="Softmax of the 10-class logits at temperature T",
        xaxis_title="class k",
        yaxis_title="probability",
        yaxis_range=[0, 1],
        active=active,
    )
