r"""Figures of chapter ``ch-dkl``, The DKL decomposition.

The decomposition of :math:`D_{\mathrm{KL}}(s_m\|s_n)` into a weighted MSE over pairwise
logit differences (which carries the gradient with respect to :math:`o_m`) and a
soft-label cross-entropy (which carries the gradient with respect to :math:`o_n`),
Cui et al. (2023), *Decoupled Kullback-Leibler Divergence Loss*, Theorem 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS
from klviz.gradients import kl_gradient_components
from klviz.plots.style import PALETTE, new_axes

__all__ = [
    "plot_dkl_gradients",
    "plot_wmse_cost",
    "plot_cancellation",
]

def plot_dkl_gradients(
    temperature: float = 1.0,
    *,
    teacher_logits: Sequence[float] = DKL_TEACHER_LOGITS,
    student_logits: Sequence[float] = DKL_STUDENT_LOGITS,
    ylim: tuple[float, float] | None = (-1.0, 1.0),
    ax=None,
):
    r"""Bar chart of the two halves of the KL gradient, per class, at temperature ``T``.

    Blue bars: :math:`\partial (T^2 D_{\mathrm{KL}})/\partial o_m`, the part the weighted MSE
    of DKL reproduces; orange bars: :math:`\partial (T^2 D_{\mathrm{KL}})/\partial o_n`, the part
    the soft-label cross-entropy reproduces; black markers: the teacher probabilities
    :math:`s_m` (the wMSE weights are :math:`w_{jk} = s_m^j s_m^k`).  The gradients come from
    :func:`klviz.gradients.kl_gradient_components`.  Chapter ``ch-dkl``.
    """
    temperature = checks.temperature(temperature)
    g_m, g_n = kl_gradient_components(teacher_logits, student_logits, temperature=temperature)
    s_m = info.softmax(np.asarray(teacher_logits, dtype=float), temperature=temperature)
    fig, ax = new_axes(ax)
    k = np.arange(len(g_m))
    width = 0.38
    ax.bar(k - width / 2, g_m, width, color=PALETTE[0], label=r"$\partial/\partial o_m$ (wMSE half)")
    ax.bar(k + width / 2, g_n, width, color=PALETTE[1], label=r"$\partial/\partial o_n$ (soft-label CE half)")
    ax.plot(k, s_m, "o", color=PALETTE[7], markersize=6, label=r"teacher probability $s_m$")
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(k)
    ax.set_xlabel("class $i$")
    ax.set_ylabel(r"gradient of $T^2\,D_{\mathrm{KL}}(s_m\|s_n)$")
    ax.set_title(f"The two halves of the KL gradient, T = {temperature:g}")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(loc="lower right", ncol=1)
    return fig


def plot_wmse_cost(
    sizes: Sequence[int],
    fast: Sequence[float],
    brute: Sequence[float],
    *,
    ylabel: str,
    title: str = "",
    ax=None,
):
    r"""Log-log plot of a cost (seconds or bytes) of the O(C) centred wMSE against the O(C^2)
    brute-force pairwise form, as the number of classes ``C`` grows.  Chapter ``ch-dkl``."""
    sizes = np.asarray(sizes, dtype=float)
    fast = np.asarray(fast, dtype=float)
    brute = np.asarray(brute, dtype=float)
    if not (sizes.shape == fast.shape == brute.shape):
        raise ValueError("sizes, fast and brute must have the same length")
    fig, ax = new_axes(ax)
    ax.loglog(sizes, brute, "s-", color=PALETTE[1], label=r"brute force, $B\times C\times C$")
    ax.loglog(sizes, fast, "o-", color=PALETTE[0], label=r"centred form, $B\times C$")
    ax.set_xlabel("number of classes $C$")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def plot_cancellation(
    offsets: Sequence[float],
    errors: dict[str, Sequence[float]],
    *,
    ax=None,
):
    r"""Relative error (against a float64 reference) of float32 wMSE formulas as a constant
    offset is added to the logit differences; ``errors`` maps a formula's name to its errors.
    Zero errors are drawn at the float32 machine epsilon so they stay on the log axis.
    Chapter ``ch-dkl``."""
    offsets = np.asarray(offsets, dtype=float)
    fig, ax = new_axes(ax)
    floor = float(np.finfo(np.float32).eps)
    markers = "os^dv"
    for i, (name, err) in enumerate(errors.items()):
        err = np.maximum(np.asarray(err, dtype=float), floor)
        if err.shape != offsets.shape:
            raise ValueError(f"errors[{name!r}] must have one value per offset")
        ax.loglog(offsets, err, markers[i % len(markers)] + "-", color=PALETTE[i % len(PALETTE)], label=name)
    ax.axhline(floor, color="0.4", linestyle=":", linewidth=1.2, label="float32 machine epsilon")
    ax.set_xlabel("offset added to every logit difference")
    ax.set_ylabel("relative error vs float64")
    ax.legend(loc="upper left")
    return fig
