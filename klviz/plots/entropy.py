r"""Figures for chapter ``ch-entropy``, *Entropy* (label ``ch-entropy``).

- :func:`plot_binary_entropy` -- the binary entropy curve :math:`h(p)` with a point at one ``p``.
- :func:`plot_entropy_vs_temperature` -- entropy of :math:`\operatorname{softmax}(z/T)` against
  :math:`T`, bounded by :math:`\log C`.
- :func:`plot_prediction_entropy` -- several predicted distributions side by side, each
  labelled with its entropy (confident vs uncertain predictions).

All functions take ``ax=None`` and return the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from klviz import info
from klviz import _checks as checks
from klviz.examples import TEN_CLASS_LOGITS
from klviz.logits import as_logits
from klviz.plots.style import PALETTE, new_axes

__all__ = ["plot_binary_entropy", "plot_entropy_vs_temperature", "plot_prediction_entropy", "unit_name"]


def unit_name(base) -> str:
    """``"bits"`` for base 2, ``"nats"`` for base e (``None``), ``"bans"`` for 10, else ``"log_b units"``."""
    if base is None or base == "e" or (isinstance(base, float) and math.isclose(base, math.e)):
        return "nats"
    if base == 2:
        return "bits"
    if base == 10:
        return "bans"
    return f"log_{base} units"


def plot_binary_entropy(p: float | None = 0.9, *, base=2, ax=None):
    r"""The binary entropy :math:`h(p) = -p\log p - (1-p)\log(1-p)` on :math:`[0, 1]`.

    With ``p`` given, a point marks :math:`(p, h(p))` and its mirror image :math:`1-p`
    (same entropy).  The maximum, :math:`\log 2` (1 bit), is at :math:`p = 1/2`.
    Chapter ``ch-entropy`` (Entropy).
    """
    fig, ax = new_axes(ax)
    grid = np.linspace(0.0, 1.0, 401)
    h = info.binary_entropy(grid, base=base)
    unit = unit_name(base)
    ax.plot(grid, h, color=PALETTE[0], label="$h(p)$")
    hmax = float(info.binary_entropy(0.5, base=base))
    max_unit = unit[:-1] if math.isclose(hmax, 1.0) else unit  # "1 bit", "0.693 nats"
    ax.axhline(hmax, color=PALETTE[7], linestyle="--", linewidth=1.0, label=f"maximum log 2 = {hmax:.3g} {max_unit}")
    if p is not None:
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1]; got {p!r}")
        hp = float(info.binary_entropy(p, base=base))
        ax.plot([p, 1.0 - p], [hp, hp], "o", color=PALETTE[1], markersize=8, label=f"h({p:.2f}) = {hp:.3f} {unit}")
        ax.vlines(p, 0, hp, color=PALETTE[1], linestyle=":", linewidth=1.2)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.15 * hmax)
    ax.set_xlabel("probability of heads $p$")
    ax.set_ylabel(f"entropy $h(p)$ [{unit}]")
    ax.legend(loc="lower center")
    return fig


def plot_entropy_vs_temperature(
    logits: Sequence[float] | np.ndarray = TEN_CLASS_LOGITS,
    temperature: float | None = 1.0,
    *,
    base=2,
    temperatures: Sequence[float] | np.ndarray | None = None,
    ax=None,
):
    r""":math:`H(\operatorname{softmax}(z/T))` against the temperature :math:`T` (log axis).

    The entropy rises from 0 (one-hot, :math:`T \to 0`) to :math:`\log C` (uniform,
    :math:`T \to \infty`); ``temperature`` marks one point on the curve.  Computed in log space
    with :func:`klviz.info.entropy_from_logits`.  Chapter ``ch-entropy`` (Entropy).
    """
    z = as_logits(logits)
    ts = (np.geomspace(0.05, 50.0, 300) if temperatures is None
          else checks.vector(temperatures, "temperatures", min_size=2, positive=True))
    h = info.entropy_from_logits(z[None, :] / ts[:, None], base=base)
    unit = unit_name(base)
    hmax = float(info.entropy(np.full(z.size, 1.0 / z.size), base=base))
    fig, ax = new_axes(ax)
    ax.plot(ts, h, color=PALETTE[0], label=r"$H(\mathrm{softmax}(z/T))$")
    ax.axhline(hmax, color=PALETTE[7], linestyle="--", linewidth=1.0, label=f"log {z.size} = {hmax:.3f} {unit}")
    if temperature is not None:
        t = checks.temperature(temperature)
        ht = float(info.entropy_from_logits(z, temperature=t, base=base))
        ax.plot([t], [ht], "o", color=PALETTE[1], markersize=8, label=f"T = {t:g}: H = {ht:.3f} {unit}")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.1 * hmax)
    ax.set_xlabel("temperature $T$ (log scale)")
    ax.set_ylabel(f"entropy [{unit}]")
    ax.legend(loc="lower right")
    return fig


def plot_prediction_entropy(
    probs: Sequence[Sequence[float]] | np.ndarray,
    names: Sequence[str],
    *,
    base=2,
    ax=None,
):
    r"""Grouped bars of several predicted distributions, each legend entry giving :math:`H(p)`.

    ``probs`` has one row per prediction.  Chapter ``ch-entropy`` (Entropy of a model's prediction).
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"probs: give a 2-D array, one distribution per row; got shape {p.shape}")
    if len(names) != p.shape[0]:
        raise ValueError(f"names: need {p.shape[0]} names (one per row of probs), got {len(names)}")
    h = info.entropy(p, base=base)
    unit = unit_name(base)
    fig, ax = new_axes(ax)
    m, c = p.shape
    width = 0.8 / m
    for i in range(m):
        ax.bar(
            np.arange(c) + (i - (m - 1) / 2) * width,
            p[i],
            width=width,
            color=PALETTE[i % len(PALETTE)],
            label=f"{names[i]}: H = {h[i]:.3f} {unit}",
        )
    ax.set_xticks(np.arange(c))
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("class $k$")
    ax.set_ylabel("predicted probability $p_k$")
    ax.legend(loc="upper right")
    return fig
