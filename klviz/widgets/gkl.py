"""Explorer of chapter ``ch-gkl``, IKL and GKL."""

from __future__ import annotations

from klviz.plots.gkl import plot_student_gradients
from klviz.widgets.base import Explorer

__all__ = ["student_gradient_explorer"]


def student_gradient_explorer(gamma: float = 1.0, temperature: float = 4.0) -> Explorer:
    r"""Sliders for the weight exponent :math:`\gamma` and the temperature :math:`T` over
    :func:`klviz.plots.gkl.plot_student_gradients` (student gradient per class under KL, IKL
    and GKL with a detached teacher)."""
    import ipywidgets as widgets

    controls = {
        "gamma": widgets.FloatSlider(
            value=gamma, min=0.25, max=2.0, step=0.25, description="γ", continuous_update=False
        ),
        "temperature": widgets.FloatSlider(
            value=temperature, min=1.0, max=8.0, step=1.0, description="T", continuous_update=False
        ),
    }
    return Explorer(plot_student_gradients, controls, fixed={"ylim": None}, title="Student gradient: KL, IKL, GKL")
