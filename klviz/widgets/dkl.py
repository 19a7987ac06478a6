"""Explorer of chapter ``ch-dkl``, The DKL decomposition."""

from __future__ import annotations

from klviz.plots.dkl import plot_dkl_gradients
from klviz.widgets.base import Explorer

__all__ = ["dkl_gradient_explorer"]


def dkl_gradient_explorer(temperature: float = 1.0) -> Explorer:
    r"""A temperature slider over :func:`klviz.plots.dkl.plot_dkl_gradients`: the wMSE half
    (:math:`\partial/\partial o_m`) and the soft-label CE half (:math:`\partial/\partial o_n`) of
    the gradient of :math:`T^2 D_{\mathrm{KL}}(s_m\|s_n)`, per class."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(
        value=temperature, min=0.5, max=10.0, step=0.5, description="T", continuous_update=False
    )
    return Explorer(plot_dkl_gradients, {"temperature": slider}, title="The two halves of the KL gradient")
