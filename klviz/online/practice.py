r"""Kernel-free slider figure for chapter ``ch-kl-practice``, *KL divergence in deep learning practice*."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import info
from klviz.online.base import slider_figure
from klviz.examples import KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.gradients import kd_gradient
from klviz.logits import logit_pair

__all__ = ["DEFAULT_TEMPERATURES", "kd_temperature_slider"]

#: Slider positions: from sharp (T = 0.5) to nearly uniform (T = 50).
DEFAULT_TEMPERATURES: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 50.0)


def kd_temperature_slider(
    teacher_logits: Sequence[float] = TEN_CLASS_LOGITS,
    student_logits: Sequence[float] = KD_STUDENT_LOGITS,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
):
    r"""Plotly figure with a slider over :math:`T`: the teacher's :math:`p = \operatorname{softmax}(z_t/T)`
    and the student's :math:`q` as bars, and the per-class gradient of the KD loss with the
    :math:`T^2` factor, :math:`T(q - p)`, and without it, :math:`(q - p)/T`, as lines.

    Each frame is computed with :func:`klviz.info.softmax` and
    :func:`klviz.gradients.kd_gradient`, as the static figure
    (:func:`klviz.plots.practice.plot_kd_temperature`).  Chapter ``ch-kl-practice`` (Knowledge distillation).
    """
    zt, zs = logit_pair(teacher_logits, student_logits)
    ts = [float(t) for t in temperatures]
    if not ts or any(not np.isfinite(t) or t <= 0 for t in ts):
        raise ValueError("temperatures: give positive, finite values")
    classes = list(range(zt.size))

    def frame(t: float):
        p = info.softmax(zt, temperature=t)
        q = info.softmax(zs, temperature=t)
        return [
            {"x": classes, "y": p.tolist(), "type": "bar", "name": "teacher p"},
            {"x": classes, "y": q.tolist(), "type": "bar", "name": "student q"},
            {"x": classes, "y": kd_gradient(zt, zs, t).tolist(), "mode": "lines+markers", "name": "gradient with T²: T(q−p)"},
            {"x": classes, "y": kd_gradient(zt, zs, t, t_squared=False).tolist(), "mode": "lines+markers",
             "dash": "dash", "name": "gradient without T²: (q−p)/T"},
        ]

    active = int(np.argmin(np.abs(np.asarray(ts) - 4.0)))
    return slider_figure(
        frame,
        ts,
        slider_label="T",
        title="Distillation at temperature T",
        xaxis_title="class k",
        yaxis_title="probability / gradient",
        yaxis_range=[-0.25, 1.0],
        active=active,
    )
