"""Kernel-free slider figure of chapter ``ch-gkl``, IKL and GKL."""

from __future__ import annotations

from collections.abc import Sequence

from klviz.online.base import slider_figure
from klviz.gradients import student_gradients

__all__ = ["student_gradient_slider", "GAMMAS"]

GAMMAS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def student_gradient_slider(gammas: Sequence[float] = GAMMAS, *, temperature: float = 4.0):
    r"""Plotly version of :func:`klviz.plots.gkl.plot_student_gradients` with a slider for the
    weight exponent :math:`\gamma`; frames from :func:`klviz.gradients.student_gradients`."""
    def frame(g: float):
        grads = student_gradients(g, temperature=temperature)
        return [
            {"x": list(range(len(v))), "y": v.tolist(), "type": "bar", "name": name}
            for name, v in grads.items()
        ]

    gammas = list(gammas)
    return slider_figure(
        frame,
        gammas,
        slider_label="γ",
        title=f"Student gradient per class, T = {temperature:g}",
        xaxis_title="class i (the label is class 0)",
        yaxis_title="∂L/∂o_n,i",
        yaxis_range=(-7.5, 3.5),
        active=gammas.index(1.0) if 1.0 in gammas else None,
    )
