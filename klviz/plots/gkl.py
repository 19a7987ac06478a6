r"""Figures of chapter ``ch-gkl``, IKL and GKL.

What each change of Cui et al. (2023; 2025) does to the student's gradient in knowledge
distillation (teacher detached): breaking the asymmetry of DKL, the smoother weight
function :math:`w = s_m^\gamma`, and class-wise global weights; and the convergence curves
of the toy experiment in :mod:`klviz.experiments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from klviz import losses
from klviz.plots.dkl import DEFAULT_STUDENT_LOGITS, DEFAULT_TEACHER_LOGITS
from klviz.plots.style import PALETTE, new_axes

__all__ = [
    "DEFAULT_CLASS_MEAN",
    "student_gradients",
    "plot_student_gradients",
    "plot_convergence",
]

#: A per-class mean teacher distribution for the running example's label (class 0). At T = 4 it
#: is more peaked on the label than this one sample's softened teacher output (0.46 against about
#: 0.33): the sample is a hard one, less typical of its class than the class average.
DEFAULT_CLASS_MEAN: tuple[float, ...] = (0.46, 0.20, 0.14, 0.10, 0.06, 0.04)


def student_gradients(
    gamma: float = 1.0,
    *,
    temperature: float = 4.0,
    teacher_logits: Sequence[float] = DEFAULT_TEACHER_LOGITS,
    student_logits: Sequence[float] = DEFAULT_STUDENT_LOGITS,
    class_mean: Sequence[float] = DEFAULT_CLASS_MEAN,
    target: int = 0,
) -> dict[str, np.ndarray]:
    r"""The student's gradient, per class, under KL, DKL, IKL and GKL with a detached teacher.

    Computed by autograd (float64) through :mod:`klviz.losses` in the book convention with
    :math:`\alpha = \beta = 1`:

    - ``"KL (= DKL)"``: :func:`klviz.losses.kd_loss`, i.e. :math:`T(s_n - s_m)`; DKL gives
      the same student gradient (its wMSE half is dead when the teacher is detached);
    - ``"IKL, sample weights"``: :func:`klviz.losses.gkl_loss` with ``gamma=1`` (asymmetry
      broken; the wMSE adds :math:`-T\,W w_i (d_i - \bar d)`, :math:`d = (o_m - o_n)/T`);
    - ``"GKL, sample weights"``: ``gamma=gamma``, weights :math:`s_m^\gamma`;
    - ``"GKL, class weights"``: ``gamma=gamma`` with the class-mean row ``class_mean`` of
      label ``target`` as the weights (before the power).

    Chapter ``ch-gkl``.
    """
    t = torch.tensor([list(teacher_logits)], dtype=torch.float64)
    C = t.shape[-1]
    cm = torch.tensor(list(class_mean), dtype=torch.float64)
    if cm.shape != (C,):
        raise ValueError(f"class_mean must have {C} entries (one per class), got {tuple(cm.shape)}")
    if (cm < 0).any() or abs(float(cm.sum()) - 1.0) > 1e-6:
        raise ValueError("class_mean must be a probability vector (non-negative, sums to 1)")
    if not 0 <= target < C:
        raise ValueError(f"target must be a class index in [0, {C - 1}], got {target!r}")
    table = torch.full((C, C), 1.0 / C, dtype=torch.float64)
    table[target] = cm
    y = torch.tensor([target])

    def grad(fn) -> np.ndarray:
        s = torch.tensor([list(student_logits)], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(fn(s), s)
        return g[0].numpy()

    kw = dict(temperature=temperature, alpha=1.0, beta=1.0)
    return {
        "KL (= DKL)": grad(lambda s: losses.kd_loss(s, t, temperature=temperature)),
        "IKL, sample weights": grad(lambda s: losses.gkl_loss(s, t, gamma=1.0, **kw)),
        "GKL, sample weights": grad(lambda s: losses.gkl_loss(s, t, gamma=gamma, **kw)),
        "GKL, class weights": grad(lambda s: losses.gkl_loss(s, t, y, gamma=gamma, class_stats=table, **kw)),
    }


def plot_student_gradients(
    gamma: float = 1.0,
    *,
    temperature: float = 4.0,
    teacher_logits: Sequence[float] = DEFAULT_TEACHER_LOGITS,
    student_logits: Sequence[float] = DEFAULT_STUDENT_LOGITS,
    class_mean: Sequence[float] = DEFAULT_CLASS_MEAN,
    ylim: tuple[float, float] | None = (-2.5, 2.5),
    ax=None,
):
    r"""Grouped bars of :func:`student_gradients`: one group per class, one bar per loss.

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
