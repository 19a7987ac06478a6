r"""Figures of chapter ``ch-gkl``, IKL and GKL.

What each change of Cui et al. (2023; 2025) does to the student's gradient in knowledge
distillation (teacher detached): breaking the asymmetry of DKL, the smoother weight
function :math:`w = s_m^\gamma`, and class-wise global weights; and the convergence curves
of the toy experiment in :mod:`klviz.experiments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS, GKL_CLASS_MEAN
from klviz.gradients import student_gradients
from klviz.plots.style import PALETTE, new_axes

__all__ = [
    "plot_student_gradients",
    "plot_convergence",
]

def plot_student_gradients(
    gamma: float = 1.0,
    *,
    temperature: float = 4.0,
    teacher_logits: Sequence[float] = DKL_TEACHER_LOGITS,
    student_logits: Sequence[float] = DKL_STUDENT_LOGITS,
    class_mean: Sequence[float] = GKL_CLASS_MEAN,
    ylim: tuple[float, float] | None = (-2.5, 2.5),
    ax=None,
):
    r"""Grouped bars of :func:`klviz.gradients.student_gradients`: one group per class, one bar per loss.

    A negative bar means gradient descent *raises* that student logit.  Chapter ``ch-gkl``.
    """
    grads = student_gradients(
        gamma,
        temperature=temperature,
        teacher_logits=teacher_logits,
        student_logits=student_logits,
        class_mean=class_mean,
    )
    fig, ax = new_axes(ax)
    k = np.arange(len(next(iter(grads.values()))))
    width = 0.8 / len(grads)
    for i, (name, g) in enumerate(grads.items()):
        ax.bar(k + (i - (len(grads) - 1) / 2) * width, g, width, color=PALETTE[i], label=name)
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(k)
    ax.set_xlabel("class $i$ (the label is class 0)")
    ax.set_ylabel(r"student gradient $\partial\mathcal{L}/\partial o_{n,i}$")
    ax.set_title(f"Student gradient, T = {temperature:g}, γ = {gamma:g}")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(loc="lower right", ncol=2)
    return fig


def plot_convergence(
    results: Mapping[str, Mapping[str, np.ndarray]],
    *,
    metric: str = "accuracy",
    ylabel: str | None = None,
    ylim: tuple[float, float] | None = None,
    ax=None,
):
    r"""Mean over seeds (line) and ± one standard deviation (band) of ``metric`` against the
    training step, one colour per loss; ``results`` as returned by
    :func:`klviz.experiments.convergence_experiment`.  Chapter ``ch-gkl``."""
    fig, ax = new_axes(ax)
    styles = ["-", "--", "-", "-.", ":", "-"]
    for i, (name, r) in enumerate(results.items()):
        if metric not in r:
            raise ValueError(f"metric must be one of {sorted(k for k in r if k != 'step')}, got {metric!r}")
        v = np.asarray(r[metric], dtype=float)
        step = np.asarray(r["step"], dtype=float)
        mean = v.mean(0)
        sd = v.std(0, ddof=1) if v.shape[0] > 1 else np.zeros_like(mean)
        color = PALETTE[i % len(PALETTE)]
        ax.plot(step, mean, styles[i % len(styles)], color=color, label=f"{name} (n={v.shape[0]})")
        ax.fill_between(step, mean - sd, mean + sd, color=color, alpha=0.18, linewidth=0)
    ax.set_xlabel("training step (mini-batches of the student)")
    ax.set_ylabel(ylabel or metric)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(loc="best")
    return fig
