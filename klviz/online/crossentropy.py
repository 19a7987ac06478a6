"""Kernel-free slider of chapter ``ch-cross-entropy``, Cross-entropy: the loss under label smoothing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz.info import entropy
from klviz.online.base import slider_figure
from klviz.smoothing import smoothed_ce_curve, smoothed_target

__all__ = ["smoothing_slider"]

DEFAULT_EPSILONS = tuple(round(0.05 * i, 2) for i in range(11))  # 0, 0.05, ..., 0.5


def smoothing_slider(epsilons: Sequence[float] = DEFAULT_EPSILONS, num_classes: int = 10):
    r"""Plotly figure: cross-entropy against :math:`q_y` without and with label smoothing,
    one slider step per :math:`\varepsilon`, computed with
    :func:`klviz.smoothing.smoothed_ce_curve` (the static figure's function)."""
    q = np.linspace(1e-3, 1.0 - 1e-6, 300)
    hard = smoothed_ce_curve(q, epsilon=0.0, num_classes=num_classes)

    def frame(eps: float):
        q_star = 1.0 - eps + eps / num_classes
        floor = float(entropy(smoothed_target(0, epsilon=eps, num_classes=num_classes)))
        return [
            {"x": q, "y": hard, "name": "hard label: -log q_y"},
            {"x": q, "y": smoothed_ce_curve(q, epsilon=eps, num_classes=num_classes),
             "name": "label-smoothed target"},
            {"x": [q_star], "y": [floor], "name": "minimum", "mode": "markers", "color": "#D55E00"},
        ]

    return slider_figure(
        frame, epsilons, slider_label="epsilon", value_format="{:.2f}",
        title=f"Cross-entropy with label smoothing (C = {num_classes})",
        xaxis_title="predicted probability of the true class q_y",
        yaxis_title="loss (nats)", yaxis_range=[0, 5], xaxis_range=[0, 1], active=2,
    )
