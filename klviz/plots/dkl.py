r"""Figures of chapter ``ch-dkl``, The DKL decomposition.

The decomposition of :math:`D_{\mathrm{KL}}(s_m\|s_n)` into a weighted MSE over pairwise
logit differences (which carries the gradient with respect to :math:`o_m`) and a
soft-label cross-entropy (which carries the gradient with respect to :math:`o_n`),
Cui et al. (2023), *Decoupled Kullback-Leibler Divergence Loss*, Theorem 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from klviz import info
from klviz.plots.style import PALETTE, new_axes

__all__ = [
    "DEFAULT_TEACHER_LOGITS",
    "DEFAULT_STUDENT_LOGITS",
    "kl_gradient_components",
    "plot_dkl_gradients",
    "plot_wmse_cost",
    "plot_cancellation",
]

#: The running example of chapter ``ch-dkl``: six classes, a confident teacher ``o_m`` and a
#: student ``o_n`` that ranks classes 0 and 1 the wrong way round.
DEFAULT_TEACHER_LOGITS: tuple[float, ...] = (4.0, 2.5, 1.0, 0.0, -1.0, -2.0)
DEFAULT_STUDENT_LOGITS: tuple[float, ...] = (1.5, 2.8, 0.5, 1.2, -0.5, -1.5)


def kl_gradient_components(
    teacher_logits: Sequence[float] | np.ndarray,
    student_logits: Sequence[float] | np.ndarray,
    *,
    temperature: float = 1.0,
    scale_by_t2: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients of :math:`T^2\,D_{\mathrm{KL}}(s_m\|s_n)` with respect to both logit vectors.

    With :math:`s_m = \operatorname{softmax}(o_m/T)`, :math:`s_n = \operatorname{softmax}(o_n/T)`
    and :math:`d = (o_m - o_n)/T`,

    .. math::
        \frac{\partial\, T^2 D_{\mathrm{KL}}}{\partial o_m} = T\, s_m \odot (d - s_m^\top d),
        \qquad
        \frac{\partial\, T^2 D_{\mathrm{KL}}}{\partial o_n} = T\,(s_n - s_m).

    The first is what the wMSE term of DKL carries, the second what the soft-label
    cross-entropy carries (Cui et al., 2023, Theorem 1; chapter ``ch-dkl``, ``ch-dkl``).  Computed by
    torch autograd through :func:`klviz.info.kl_divergence_from_logits` in float64, so it is
    an independent check of the closed forms above.  ``scale_by_t2=False`` drops the
    :math:`T^2` of Hinton et al. (2015).  Returns ``(grad_teacher, grad_student)`` as numpy.
    """
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    o_m = torch.tensor(np.asarray(teacher_logits, dtype=float), dtype=torch.float64, requires_grad=True)
    o_n = torch.tensor(np.asarray(student_logits, dtype=float), dtype=torch.float64, requires_grad=True)
    if o_m.shape != o_n.shape:
        raise ValueError(
            f"teacher_logits and student_logits must have the same shape, got {tuple(o_m.shape)} "
            f"and {tuple(o_n.shape)}"
        )
    kl = info.kl_divergence_from_logits(o_m, o_n, temperature=temperature).sum()
    if scale_by_t2:
        kl = kl * temperature**2
    g_m, g_n = torch.autograd.grad(kl, (o_m, o_n))
    return g_m.numpy(), g_n.numpy()


def plot_dkl_gradients(
    temperature: float = 1.0,
    *,
    teacher_logits: Sequence[float] = DEFAULT_TEACHER_LOGITS,
    student_logits: Sequence[float] = DEFAULT_STUDENT_LOGITS,
    ylim: tuple[float, float] | None = (-1.0, 1.0),
    ax=None,
):
    r"""Bar chart of the two halves of the KL gradient, per class, at temperature ``T``.

    Blue bars: :math:`\partial (T^2 D_{\mathrm{KL}})/\partial o_m`, the part the weighted MSE
    of DKL reproduces; orange bars: :math:`\partial (T^2 D_{\mathrm{KL}})/\partial o_n`, the part
    the soft-label cross-entropy reproduces; black markers: the teacher probabilities
    :math:`s_m` (the wMSE weights are :math:`w_{jk} = s_m^j s_m^k`).  Chapter ``ch-dkl``.
    """
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
