"""Kernel-free slider figure of chapter ``ch-dkl``, The DKL decomposition."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz.online.base import slider_figure
from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS
from klviz.gradients import kl_gradient_components

__all__ = ["dkl_gradient_slider", "TEMPERATURES"]

TEMPERATURES: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0)


def dkl_gradient_slider(
    temperatures: Sequence[float] = TEMPERATURES,
    *,
    teacher_logits: Sequence[float] = DKL_TEACHER_LOGITS,
    student_logits: Sequence[float] = DKL_STUDENT_LOGITS,
):
    r"""Plotly version of :func:`klviz.plots.dkl.plot_dkl_gradients` with a temperature slider:
    per class, :math:`\partial (T^2 D_{\mathrm{KL}})/\partial o_m` (the wMSE half),
    :math:`\partial (T^2 D_{\mathrm{KL}})/\partial o_n` (the soft-label CE half) and the
    teacher probabilities, computed by :func:`klviz.gradients.kl_gradient_components`."""
    from klviz import info

    classes = list(range(len(teacher_logits)))

    def frame(T: float):
        g_m, g_n = kl_gradient_components(teacher_logits, student_logits, temperature=T)
        s_m = info.softmax(np.asarray(teacher_logits, dtype=float), temperature=T)
        return [
            {"x": classes, "y": g_m.tolist(), "type": "bar", "name": "∂/∂o_m (wMSE half)"},
            {"x": classes, "y": g_n.tolist(), "type": "bar", "name": "∂/∂o_n (soft-label CE half)"},
            {"x": classes, "y": s_m.tolist(), "mode": "markers", "name": "teacher probability s_m", "color": "#000000"},
        ]

    return slider_figure(
        frame,
        temperatures,
        slider_label="T",
        title="The two halves of the gradient of T²·KL(s_m‖s_n)",
        xaxis_title="class i",
        yaxis_title="gradient",
        yaxis_range=(-1.0, 1.0),
        active=1,
    )
