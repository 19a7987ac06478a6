r"""Figures of chapter ``ch-entropy``, *Entropy*, each declared once.

- :data:`binary_entropy` -- the binary entropy curve :math:`h(p)` with a point at one ``p``
  (static figure, explorer and web slider over ``p``).
- :data:`entropy_vs_temperature` -- :math:`H(\operatorname{softmax}(z/T))` against :math:`T`,
  bounded by :math:`\log C`, with a point at one temperature (static, explorer, web slider).
- :data:`prediction_entropy` -- several predicted distributions side by side, each labelled
  with its entropy (static).
"""

from __future__ import annotations

import math

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import TEN_CLASS_LOGITS
from klviz.figures.probability import TEMPERATURES
from klviz.logits import as_logits
from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param

__all__ = ["binary_entropy", "entropy_vs_temperature", "prediction_entropy", "unit_name"]


def unit_name(base) -> str:
    """``"bits"`` for base 2, ``"nats"`` for base e (``None``), ``"bans"`` for 10, else ``"log_b units"``."""
    if base is None or base == "e" or (isinstance(base, float) and math.isclose(base, math.e)):
        return "nats"
    if base == 2:
        return "bits"
    if base == 10:
        return "bans"
    return f"log_{base} units"


def _binary_data(p, base) -> dict:
    grid = np.linspace(0.0, 1.0, 401)
    out = {"grid": grid, "h": info.binary_entropy(grid, base=base), "unit": unit_name(base),
           "hmax": float(info.binary_entropy(0.5, base=base)), "p": None, "hp": None}
    if p is not None:
        out["p"] = checks.fraction(p, "p")
        out["hp"] = float(info.binary_entropy(out["p"], base=base))
    return out


def _binary_draw(ax, d: dict, values: dict) -> None:
    unit, hmax = d["unit"], d["hmax"]
    ax.plot(d["grid"], d["h"], color=PALETTE[0], label="$h(p)$")
    max_unit = unit[:-1] if math.isclose(hmax, 1.0) else unit  # "1 bit", "0.693 nats"
    ax.axhline(hmax, color=PALETTE[7], linestyle="--", linewidth=1.0, label=f"maximum log 2 = {hmax:.3g} {max_unit}")
    if d["p"] is not None:
        p, hp = d["p"], d["hp"]
        ax.plot([p, 1.0 - p], [hp, hp], "o", color=PALETTE[1], markersize=8, label=f"h({p:.2f}) = {hp:.3f} {unit}")
        ax.vlines(p, 0, hp, color=PALETTE[1], linestyle=":", linewidth=1.2)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.15 * hmax)
    ax.legend(loc="lower center")


binary_entropy = FigureSpec(
    "binary-entropy", "Binary entropy", _binary_data, _binary_draw,
    xlabel="probability of heads $p$", ylabel="entropy $h(p)$ [{unit}]",
    params=(Param.range("p", "p", start=0.0, stop=1.0, step=0.05, default=0.9, fmt="{:.2f}"),),
    inputs={"base": 2},
    doc=r"""The binary entropy :math:`h(p) = -p\log p - (1-p)\log(1-p)` on :math:`[0, 1]`; a point marks
    :math:`(p, h(p))` and its mirror image :math:`1-p` (same entropy); the maximum, :math:`\log 2`
    (1 bit), is at :math:`p = 1/2`.  ``p=None`` draws the curve alone.  Chapter ``ch-entropy``.""",
)


def _temperature_data(logits, temperature, base, temperatures) -> dict:
    z = as_logits(logits)
    ts = (np.geomspace(0.05, 50.0, 300) if temperatures is None
          else checks.vector(temperatures, "temperatures", min_size=2, positive=True))
    out = {"ts": ts, "h": info.entropy_from_logits(z[None, :] / ts[:, None], base=base), "unit": unit_name(base),
           "size": z.size, "hmax": float(info.entropy(np.full(z.size, 1.0 / z.size), base=base)), "ht": None}
    if temperature is not None:
        out["ht"] = float(info.entropy_from_logits(z, temperature=checks.temperature(temperature), base=base))
    return out


def _temperature_draw(ax, d: dict, values: dict) -> None:
    unit, hmax = d["unit"], d["hmax"]
    ax.plot(d["ts"], d["h"], color=PALETTE[0], label=r"$H(\mathrm{softmax}(z/T))$")
    ax.axhline(hmax, color=PALETTE[7], linestyle="--", linewidth=1.0, label=f"log {d['size']} = {hmax:.3f} {unit}")
    if d["ht"] is not None:
        t = float(values["temperature"])
        ax.plot([t], [d["ht"]], "o", color=PALETTE[1], markersize=8, label=f"T = {t:g}: H = {d['ht']:.3f} {unit}")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.1 * hmax)
    ax.legend(loc="lower right")


entropy_vs_temperature = FigureSpec(
    "entropy-vs-temperature", "Entropy of the softmax of the logits against the temperature T", _temperature_data, _temperature_draw,
    xlabel="temperature $T$ (log scale)", ylabel="entropy [{unit}]",
    params=(Param("temperature", "T", TEMPERATURES, default=1.0),),
    inputs={"logits": TEN_CLASS_LOGITS, "base": 2, "temperatures": None},
    doc=r""":math:`H(\operatorname{softmax}(z/T))` against the temperature :math:`T` (log axis), computed in
    log space with :func:`klviz.info.entropy_from_logits`: it rises from 0 (one-hot, :math:`T \to 0`)
    to :math:`\log C` (uniform, :math:`T \to \infty`); a point marks the chosen temperature.
    Chapter ``ch-entropy``.""",
)


def _prediction_data(probs, names, base) -> dict:
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"probs: give a 2-D array, one distribution per row; got shape {p.shape}")
    if len(names) != p.shape[0]:
        raise ValueError(f"names: need {p.shape[0]} names (one per row of probs), got {len(names)}")
    return {"p": p, "h": info.entropy(p, base=base), "unit": unit_name(base)}


def _prediction_draw(ax, d: dict, values: dict) -> None:
    p, names = d["p"], values["names"]
    m, c = p.shape
    width = 0.8 / m
    for i in range(m):
        ax.bar(np.arange(c) + (i - (m - 1) / 2) * width, p[i], width=width, color=PALETTE[i % len(PALETTE)],
               label=f"{names[i]}: H = {d['h'][i]:.3f} {d['unit']}")
    ax.set_xticks(np.arange(c))
    ax.set_ylim(0, 1.0)
    ax.legend(loc="upper right")


prediction_entropy = FigureSpec(
    "prediction-entropy", None, _prediction_data, _prediction_draw,
    xlabel="class $k$", ylabel="predicted probability $p_k$",
    inputs={"probs": REQUIRED, "names": REQUIRED, "base": 2},
    example={"probs": ((0.9, 0.05, 0.05), (0.4, 0.3, 0.3)), "names": ("confident", "uncertain")},
    doc=r"""Grouped bars of several predicted distributions (one row of ``probs`` each), each legend
    entry giving its entropy :math:`H(p) = -\sum_k p_k \log p_k`.  Chapter ``ch-entropy``.""",
)
