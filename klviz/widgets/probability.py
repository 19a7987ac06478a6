r"""Explorers for chapter ``ch-probability``, *Probability and the softmax* (label ``ch-probability``)."""

from __future__ import annotations

from collections.abc import Sequence

from klviz.examples import TEN_CLASS_LOGITS
from klviz.plots.probability import plot_softmax_temperature
from klviz.widgets.base import Explorer

__all__ = ["softmax_temperature_explorer"]


def softmax_temperature_explorer(
    logits: Sequence[float] = TEN_CLASS_LOGITS, *, temperature: float = 1.0
) -> Explorer:
    r"""A temperature slider over :func:`klviz.plots.probability.plot_softmax_temperature`:
    the bars of :math:`\operatorname{softmax}(z/T)` for the given logits.

    Chapter ``ch-probability`` (Softmax and temperature).
    """
    import ipywidgets as widgets

    control = widgets.FloatSlider(
        value=temperature, min=0.1, max=10.0, step=0.1, description="T", continuous_update=False
    )
    return Explorer(
        plot_softmax_temperature,
        {"temperature": control},
        fixed={"logits": tuple(logits)},
        title="Softmax of the logits at temperature T",
    )
