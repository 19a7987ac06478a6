r"""Figures of chapter ``ch-gkl``, *IKL and GKL*, each declared once.

What each change of Cui et al. (2023; 2025) does to the student's gradient in knowledge
distillation (teacher detached): breaking the asymmetry of DKL, the smoother weight function
:math:`w = s_m^\gamma`, and class-wise global weights; and the convergence curves of the toy
experiment in :mod:`klviz.distill.convergence`.

- :data:`student_gradients` -- the student's gradient per class under KL, IKL and GKL; the
  chapter's static figure, explorer (over :math:`\gamma` and :math:`T`) and web slider (over
  :math:`\gamma`).
- :data:`convergence` -- mean and spread over seeds of a metric against the training step (static).

The gradients come from :func:`klviz.gradients.student_gradients`.
"""

from __future__ import annotations

import numpy as np

from klviz import gradients
from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS, GKL_CLASS_MEAN
from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param

__all__ = ["student_gradients", "convergence"]


def _gradients_data(teacher_logits, student_logits, class_mean, ylim, gamma: float, temperature: float) -> dict:
    return {"grads": gradients.student_gradients(gamma, temperature=temperature, teacher_logits=teacher_logits,
                                                 student_logits=student_logits, class_mean=class_mean)}


def _gradients_draw(ax, d: dict, values: dict) -> None:
    grads = d["grads"]
    k = np.arange(len(next(iter(grads.values()))))
    width = 0.8 / len(grads)
    for i, (name, g) in enumerate(grads.items()):
        ax.bar(k + (i - (len(grads) - 1) / 2) * width, g, width, color=PALETTE[i], label=name)
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(k)
    if values["ylim"] is not None:
        ax.set_ylim(*values["ylim"])
    ax.legend(loc="lower right", ncol=2)


student_gradients = FigureSpec(
    "gkl-student-gradients", "Student gradient, T = {temperature:g}, γ = {gamma:g}", _gradients_data, _gradients_draw,
    xlabel="class $i$ (the label is class 0)", ylabel=r"student gradient $\partial\mathcal{{L}}/\partial o_{{n,i}}$",
    params=(Param.range("gamma", "γ", start=0.25, stop=2.0, step=0.25, default=0.5),
            Param.range("temperature", "T", start=1.0, stop=8.0, step=1.0, default=4.0)),
    inputs={"teacher_logits": DKL_TEACHER_LOGITS, "student_logits": DKL_STUDENT_LOGITS,
            "class_mean": GKL_CLASS_MEAN, "ylim": None},
    online_param="gamma",
    doc=r"""Grouped bars of :func:`klviz.gradients.student_gradients`: one group per class, one bar per
    loss (KL = DKL, IKL, GKL with sample-wise and with class-wise weights), teacher detached.  A
    negative bar means gradient descent *raises* that student logit.  Cui et al. (2023; 2025).
    Chapter ``ch-gkl``.""",
)


def _convergence_data(results, metric: str, ylabel, ylim) -> dict:
    curves = []
    for name, r in results.items():
        if metric not in r:
            raise ValueError(f"metric must be one of {sorted(k for k in r if k != 'step')}, got {metric!r}")
        v = np.asarray(r[metric], dtype=float)
        mean = v.mean(0)
        sd = v.std(0, ddof=1) if v.shape[0] > 1 else np.zeros_like(mean)
        curves.append((name, np.asarray(r["step"], dtype=float), mean, sd, v.shape[0]))
    return {"curves": curves, "axis_label": ylabel or metric}


def _convergence_draw(ax, d: dict, values: dict) -> None:
    styles = ["-", "--", "-", "-.", ":", "-"]
    for i, (name, step, mean, sd, n) in enumerate(d["curves"]):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(step, mean, styles[i % len(styles)], color=color, label=f"{name} (n={n})")
        ax.fill_between(step, mean - sd, mean + sd, color=color, alpha=0.18, linewidth=0)
    if values["ylim"] is not None:
        ax.set_ylim(*values["ylim"])
    ax.legend(loc="best")


convergence = FigureSpec(
    "gkl-convergence", None, _convergence_data, _convergence_draw,
    xlabel="training step (mini-batches of the student)", ylabel="{axis_label}",
    inputs={"results": REQUIRED, "metric": "accuracy", "ylabel": None, "ylim": None},
    example={"results": {"a": {"step": np.array([0, 10, 20]), "accuracy": np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.9]])}}},
    doc=r"""Mean over seeds (line) and plus or minus one standard deviation (band) of ``metric`` against
    the training step, one colour per loss; ``results`` as returned by
    :func:`klviz.distill.convergence.convergence_experiment`.  Chapter ``ch-gkl``.""",
)
