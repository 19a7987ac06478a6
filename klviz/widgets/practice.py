r"""Explorers for chapter ``ch-kl-practice``, *KL divergence in deep learning practice* (label ``ch-kl-practice``)."""

from __future__ import annotations

from collections.abc import Sequence

from klviz.examples import KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.plots.practice import plot_kd_temperature
from klviz.widgets.base import Explorer

__all__ = ["kd_temperature_explorer"]


def kd_temperature_explorer(
    teacher_logits: Sequence[float] = TEN_CLASS_LOGITS,
    student_logits: Sequence[float] = KD_STUDENT_LOGITS,
    *,
    temperature: float = 4.0,
) -> Explorer:
    r"""A temperature slider over :func:`klviz.plots.practice.plot_kd_temperature`: the teacher's
    and the student's :math:`\operatorname{softmax}(z/T)` and the size of the distillation
    gradient, :math:`\|T(q-p)\|` with the :math:`T^2` factor and :math:`\|(q-p)/T\|` without.

    Chapter ``ch-kl-practice`` (Knowledge distillation).
    """
    import ipywidgets as widgets

    control = widgets.FloatLogSlider(
        value=temperature, base=10, min=-0.3, max=2.0, step=0.05, description="T", continuous_update=False
    )
    return Explorer(
        plot_kd_temperature,
        {"temperature": control},
        fixed={"teacher_logits": tuple(teacher_logits), "student_logits": tuple(student_logits)},
        title="Distillation at temperature T: softened distributions and gradient size",
    )
