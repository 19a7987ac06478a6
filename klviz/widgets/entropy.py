r"""Explorers for chapter ``ch-entropy``, *Entropy* (label ``ch-entropy``)."""

from __future__ import annotations

from collections.abc import Sequence

from klviz.plots.entropy import plot_binary_entropy, plot_entropy_vs_temperature
from klviz.examples import TEN_CLASS_LOGITS
from klviz.widgets.base import Explorer

__all__ = ["binary_entropy_explorer", "entropy_temperature_explorer"]


def binary_entropy_explorer(*, p: float = 0.9, base=2) -> Explorer:
    r"""A slider for the coin's :math:`p` over :func:`klviz.plots.entropy.plot_binary_entropy`,
    :math:`h(p) = -p\log p - (1-p)\log(1-p)`.  Chapter ``ch-entropy`` (Entropy).
    """
    import ipywidgets as widgets

    control = widgets.FloatSlider(
        value=p, min=0.0, max=1.0, step=0.01, description="p", continuous_update=False
    )
    return Explorer(plot_binary_entropy, {"p": control}, fixed={"base": base}, title="Binary entropy")


def entropy_temperature_explorer(
    logits: Sequence[float] = TEN_CLASS_LOGITS, *, temperature: float = 1.0, base=2
) -> Explorer:
    r"""A temperature slider over :func:`klviz.plots.entropy.plot_entropy_vs_temperature`:
    :math:`H(\operatorname{softmax}(z/T))` with the point at the chosen :math:`T`.
    Chapter ``ch-entropy`` (Entropy).
    """
    import ipywidgets as widgets

    control = widgets.FloatSlider(
        value=temperature, min=0.1, max=20.0, step=0.1, description="T", continuous_update=False
    )
    return Explorer(
        plot_entropy_vs_temperature,
        {"temperature": control},
        fixed={"logits": tuple(logits), "base": base},
        title="Entropy of the softmax at temperature T",
    )
