r"""Figures of chapter ``ch-probability``, *Probability and the softmax*, each declared once.

- :data:`pmf` -- a probability mass function with its mean and one standard deviation (static).
- :data:`softmax_bars` -- :math:`\operatorname{softmax}(z/T)` as bars at one temperature; the
  chapter's static figure, explorer and web slider (over :data:`TEMPERATURES`).
- :data:`softmax_vs_temperature` -- every class probability against :math:`T` (static).

Render with ``softmax_bars(temperature=1.0)``, ``softmax_bars.explorer()`` and
``show(softmax_bars.online(), alt=...)`` (:mod:`klviz.viz`).
"""

from __future__ import annotations

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import TEN_CLASS_LOGITS
from klviz.logits import as_logits
from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param

__all__ = ["TEMPERATURES", "pmf", "softmax_bars", "softmax_vs_temperature"]

#: The temperature slider of the chapters ``ch-probability`` and ``ch-entropy``: log-spaced enough
#: to show both limits, round enough to read.
TEMPERATURES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)


def _pmf_data(outcomes, probs, show_moments: bool, xlabel: str) -> dict:
    x = checks.vector(outcomes, "outcomes")
    p = checks.probability_vector(probs, "probs")
    if x.shape != p.shape:
        raise ValueError(f"outcomes and probs must be 1-D of the same length; got {x.shape} and {p.shape}")
    mu = float(np.sum(x * p))  # E[X] and sqrt(Var X) of the PMF
    return {"x": x, "p": p, "mu": mu, "sd": float(np.sqrt(np.sum((x - mu) ** 2 * p)))}


def _pmf_draw(ax, d: dict, values: dict) -> None:
    ax.vlines(d["x"], 0, d["p"], color=PALETTE[0], linewidth=3)
    ax.plot(d["x"], d["p"], "o", color=PALETTE[0], label="$p(x)$")
    if values["show_moments"]:
        mu, sd = d["mu"], d["sd"]
        ax.axvline(mu, color=PALETTE[1], linestyle="--", label=rf"mean $\mu$ = {mu:.3g}")
        ax.axvspan(mu - sd, mu + sd, color=PALETTE[1], alpha=0.12, label=rf"$\mu \pm \sigma$, $\sigma$ = {sd:.3g}")
    ax.set_ylim(0, max(1.05 * d["p"].max(), 0.05))
    ax.legend(loc="upper right")


pmf = FigureSpec(
    "pmf", None, _pmf_data, _pmf_draw,
    xlabel="{xlabel}", ylabel="probability $p(x)$",
    inputs={"outcomes": REQUIRED, "probs": REQUIRED, "show_moments": True, "xlabel": "outcome $x$"},
    example={"outcomes": (1, 2, 3, 4, 5, 6), "probs": (0.1, 0.1, 0.1, 0.1, 0.1, 0.5)},
    doc=r"""Stem plot of a PMF :math:`p(x)` with the mean :math:`\mu = \sum_x x\,p(x)` and the band
    :math:`\mu \pm \sigma`, :math:`\sigma^2 = \sum_x (x-\mu)^2 p(x)`.  Chapter ``ch-probability``.""",
)


def _softmax_data(logits, temperature: float, class_names) -> dict:
    z = as_logits(logits)
    p = info.softmax(z, temperature=checks.temperature(temperature))
    names = list(class_names) if class_names is not None else [str(k) for k in range(z.size)]
    if len(names) != z.size:
        raise ValueError(f"class_names: need {z.size} names, got {len(names)}")
    return {"z": z, "p": p, "names": names, "top_name": names[int(np.argmax(p))], "top_p": float(p.max())}


def _softmax_draw(ax, d: dict, values: dict) -> None:
    z, size = d["z"], d["z"].size
    colors = [PALETTE[1] if k == int(np.argmax(z)) else PALETTE[0] for k in range(size)]
    ax.bar(np.arange(size), d["p"], color=colors)
    ax.axhline(1.0 / size, color=PALETTE[7], linestyle="--", linewidth=1.2, label=f"uniform 1/{size}")
    ax.set_xticks(np.arange(size), d["names"])
    ax.set_ylim(0, 1.0)
    ax.legend(loc="upper left")


softmax_bars = FigureSpec(
    "softmax-bars", "T = {temperature:g}: top class {top_name} has p = {top_p:.3f}", _softmax_data, _softmax_draw,
    xlabel="class $k$", ylabel=r"$\mathrm{{softmax}}(z/T)_k$",
    params=(Param("temperature", "T", TEMPERATURES, default=1.0),),
    inputs={"logits": TEN_CLASS_LOGITS, "class_names": None},
    doc=r"""Bars of :math:`\operatorname{softmax}(z/T)_k = e^{z_k/T} / \sum_j e^{z_j/T}` at one temperature;
    the dashed line is the uniform :math:`1/C` (the limit :math:`T \to \infty`), the arg-max class
    is highlighted (the limit :math:`T \to 0`).  Chapter ``ch-probability``.""",
)


def _curves_data(logits, temperatures, marker) -> dict:
    z = as_logits(logits)
    ts = (np.geomspace(0.05, 50.0, 300) if temperatures is None
          else checks.vector(temperatures, "temperatures", min_size=2, positive=True))
    # one row per temperature: softmax of z / T along the class axis
    return {"z": z, "ts": ts, "probs": info.softmax(z[None, :] / ts[:, None]),
            "marker": None if marker is None else checks.temperature(marker, "marker")}


def _curves_draw(ax, d: dict, values: dict) -> None:
    z = d["z"]
    for rank, k in enumerate(np.argsort(-z)):
        strong = rank < 3  # the three largest logits get colours and legend entries
        ax.plot(d["ts"], d["probs"][:, k], color=PALETTE[rank] if strong else "0.6",
                linewidth=2.2 if strong else 1.0, label=f"class {k} (z = {z[k]:g})" if strong else None)
    ax.axhline(1.0 / z.size, color=PALETTE[7], linestyle="--", linewidth=1.2, label=f"1/{z.size}")
    if d["marker"] is not None:
        ax.axvline(d["marker"], color=PALETTE[7], linestyle=":", linewidth=1.2)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="upper right")


softmax_vs_temperature = FigureSpec(
    "softmax-vs-temperature", None, _curves_data, _curves_draw,
    xlabel="temperature $T$ (log scale)", ylabel=r"$\mathrm{{softmax}}(z/T)_k$",
    inputs={"logits": TEN_CLASS_LOGITS, "temperatures": None, "marker": None},
    doc=r"""Each class probability :math:`\operatorname{softmax}(z/T)_k` against :math:`T` (log axis): as
    :math:`T \to 0` the arg-max class goes to 1, as :math:`T \to \infty` all meet at :math:`1/C`;
    ``marker`` draws a vertical line at one temperature.  Chapter ``ch-probability``.""",
)
