r"""Figures for chapter ``ch-probability``, *Probability and the softmax* (label ``ch-probability``).

- :func:`plot_pmf` -- a probability mass function with its mean and one standard deviation.
- :func:`plot_softmax_temperature` -- :math:`\operatorname{softmax}(z/T)` as bars, for one
  temperature (the static figure and the explorer of the chapter).
- :func:`plot_softmax_vs_temperature` -- every class probability as a function of :math:`T`.

All functions take ``ax=None`` and return the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import TEN_CLASS_LOGITS
from klviz.logits import as_logits
from klviz.plots.style import PALETTE, new_axes

__all__ = [
    "plot_pmf",
    "plot_softmax_temperature",
    "plot_softmax_vs_temperature",
]

def plot_pmf(
    outcomes: Sequence[float] | np.ndarray,
    probs: Sequence[float] | np.ndarray,
    *,
    show_moments: bool = True,
    xlabel: str = "outcome $x$",
    ax=None,
):
    r"""Stem plot of a PMF :math:`p(x)`, with the mean :math:`\mu = \sum_x x\,p(x)` and the band
    :math:`\mu \pm \sigma`, :math:`\sigma^2 = \sum_x (x-\mu)^2 p(x)`.

    Chapter ``ch-probability`` (Expectation and variance).
    """
    x = np.asarray(outcomes, dtype=float)
    p = np.asarray(probs, dtype=float)
    if x.shape != p.shape or x.ndim != 1:
        raise ValueError(f"outcomes and probs must be 1-D of the same length; got {x.shape} and {p.shape}")
    if (p < 0).any() or abs(p.sum() - 1.0) > 1e-6:
        raise ValueError("probs must be non-negative and sum to 1 (normalise with probs / probs.sum())")
    fig, ax = new_axes(ax)
    ax.vlines(x, 0, p, color=PALETTE[0], linewidth=3)
    ax.plot(x, p, "o", color=PALETTE[0], label="$p(x)$")
    if show_moments:
        mu = float(np.sum(x * p))
        sd = float(np.sqrt(np.sum((x - mu) ** 2 * p)))
        ax.axvline(mu, color=PALETTE[1], linestyle="--", label=rf"mean $\mu$ = {mu:.3g}")
        ax.axvspan(mu - sd, mu + sd, color=PALETTE[1], alpha=0.12, label=rf"$\mu \pm \sigma$, $\sigma$ = {sd:.3g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability $p(x)$")
    ax.set_ylim(0, max(1.05 * p.max(), 0.05))
    ax.legend(loc="upper right")
    return fig


def plot_softmax_temperature(
    logits: Sequence[float] | np.ndarray = TEN_CLASS_LOGITS,
    temperature: float = 1.0,
    *,
    class_names: Sequence[str] | None = None,
    ax=None,
):
    r"""Bars of :math:`\operatorname{softmax}(z/T)_k = e^{z_k/T} / \sum_j e^{z_j/T}` for one temperature.

    The dashed line marks the uniform distribution :math:`1/C`, the limit :math:`T \to \infty`;
    the arg-max class is highlighted, the limit of :math:`T \to 0`.  Chapter ``ch-probability``, Softmax and
    temperature.
    """
    z = as_logits(logits)
    t = checks.temperature(temperature)
    p = info.softmax(z, temperature=t)
    names = list(class_names) if class_names is not None else [str(k) for k in range(z.size)]
    if len(names) != z.size:
        raise ValueError(f"class_names: need {z.size} names, got {len(names)}")
    fig, ax = new_axes(ax)
    colors = [PALETTE[1] if k == int(np.argmax(z)) else PALETTE[0] for k in range(z.size)]
    ax.bar(np.arange(z.size), p, color=colors)
    ax.axhline(1.0 / z.size, color=PALETTE[7], linestyle="--", linewidth=1.2, label=f"uniform 1/{z.size}")
    ax.set_xticks(np.arange(z.size), names)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("class $k$")
    ax.set_ylabel(r"$\mathrm{softmax}(z/T)_k$")
    ax.set_title(f"T = {t:g}: top class {names[int(np.argmax(p))]} has p = {p.max():.3f}")
    ax.legend(loc="upper left")
    return fig


def plot_softmax_vs_temperature(
    logits: Sequence[float] | np.ndarray = TEN_CLASS_LOGITS,
    temperatures: Sequence[float] | np.ndarray | None = None,
    *,
    marker: float | None = None,
    ax=None,
):
    r"""Each class probability :math:`\operatorname{softmax}(z/T)_k` against :math:`T` (log axis).

    As :math:`T \to 0` the arg-max class goes to 1 and the others to 0; as :math:`T \to \infty`
    all curves meet at :math:`1/C`.  ``marker`` draws a vertical line at one temperature.
    Chapter ``ch-probability`` (Softmax and temperature).
    """
    z = as_logits(logits)
    ts = (np.geomspace(0.05, 50.0, 300) if temperatures is None
          else checks.vector(temperatures, "temperatures", min_size=2, positive=True))
    # one row per temperature: softmax of z / T along the class axis
    probs = info.softmax(z[None, :] / ts[:, None])
    fig, ax = new_axes(ax)
    order = np.argsort(-z)
    for rank, k in enumerate(order):
        strong = rank < 3
        ax.plot(
            ts,
            probs[:, k],
            color=PALETTE[rank] if strong else "0.6",
            linewidth=2.2 if strong else 1.0,
            label=f"class {k} (z = {z[k]:g})" if strong else None,
        )
    ax.axhline(1.0 / z.size, color=PALETTE[7], linestyle="--", linewidth=1.2, label=f"1/{z.size}")
    if marker is not None:
        ax.axvline(checks.temperature(marker), color=PALETTE[7], linestyle=":", linewidth=1.2)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("temperature $T$ (log scale)")
    ax.set_ylabel(r"$\mathrm{softmax}(z/T)_k$")
    ax.legend(loc="upper right")
    return fig
