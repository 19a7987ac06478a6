r"""Figures of chapter ``ch-information``, *Information beyond one variable*, each declared once.

- :data:`bernoulli_divergences` -- the f-divergences of :math:`\mathrm{Ber}(p)` from
  :math:`\mathrm{Ber}(q)` against :math:`q`, with Pinsker's bound (web slider over :math:`p`).
- :data:`pinsker_gap` -- total variation against KL for random pairs, under Pinsker's curve.
- :data:`dpi_chain` -- :math:`I(X;Y)` and :math:`I(X;Z)` along a chain of two binary
  symmetric channels (the data-processing inequality).
- :data:`quantisation` -- :math:`H(X_\Delta) + \log\Delta` approaching :math:`h(X)`.

The computation lives in :mod:`klviz.info`, :mod:`klviz.channels` and :mod:`klviz.differential`.
"""

from __future__ import annotations

import math

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.channels import binary_symmetric_channel, markov_chain_table
from klviz.differential import gaussian_entropy, quantised_gaussian_entropy
from klviz.viz import PALETTE, FigureSpec, Param

__all__ = ["bernoulli_divergences", "pinsker_gap", "dpi_chain", "quantisation"]

#: name of the generator -> legend label, in drawing order
_BERNOULLI_CURVES = {
    "kl": r"$D_{\mathrm{KL}}(p\|q)$",
    "reverse_kl": r"$D_{\mathrm{KL}}(q\|p)$",
    "chi2": r"$\chi^2(p\|q)$",
    "squared_hellinger": r"$2H^2$ (squared Hellinger sum)",
    "js": r"$D_{\mathrm{JS}}$",
    "tv": r"TV $= |p - q|$",
}


def _bernoulli_data(p: float, ymax: float) -> dict:
    checks.positive(ymax, "ymax")
    q = np.linspace(0.005, 0.995, 199)
    pp = np.stack([np.full_like(q, p), 1.0 - p * np.ones_like(q)], axis=-1)
    qq = np.stack([q, 1.0 - q], axis=-1)
    curves = {name: info.f_divergence(pp, qq, name) for name in _BERNOULLI_CURVES}
    return {"q": q, "curves": curves, "pinsker": np.sqrt(curves["kl"] / 2.0)}


def _bernoulli_draw(ax, d: dict, values: dict) -> None:
    styles = ["-", "--", ":", "-.", (0, (5, 1)), "-"]
    for i, (name, label) in enumerate(_BERNOULLI_CURVES.items()):
        y = np.minimum(d["curves"][name], 10 * values["ymax"])  # chi2 explodes at the ends
        ax.plot(d["q"], y, color=PALETTE[i % len(PALETTE)], linestyle=styles[i], label=label)
    ax.plot(d["q"], d["pinsker"], color="0.2", linestyle=":", linewidth=2.2,
            label=r"Pinsker: $(D_{\mathrm{KL}}/2)^{1/2} \geq$ TV")
    ax.axvline(values["p"], color="0.6", linewidth=0.8)
    ax.set_ylim(0, values["ymax"])
    ax.legend(loc="upper center", fontsize=8, ncol=2)


bernoulli_divergences = FigureSpec(
    "bernoulli-divergences", r"f-divergences of Ber({p:g}) from Ber($q$)",
    _bernoulli_data, _bernoulli_draw,
    xlabel=r"$q$", ylabel="divergence (nats)",
    params=(Param.range("p", "p", start=0.05, stop=0.95, step=0.05, default=0.3),),
    inputs={"ymax": 2.4},
    doc=r"""The f-divergences of :func:`klviz.info.f_divergence` (KL, reverse KL, :math:`\chi^2`,
    squared Hellinger sum, JS, TV) between :math:`\mathrm{Ber}(p)` and :math:`\mathrm{Ber}(q)`
    against :math:`q`, with Pinsker's upper bound :math:`\sqrt{D_{\mathrm{KL}}/2}` on TV.
    All vanish at :math:`q = p`; JS, TV and the Hellinger sum stay bounded.  Chapter ``ch-information``.""",
)


def _pinsker_data(n_pairs: int, k: int, seed: int) -> dict:
    n = checks.positive_int(n_pairs, "n_pairs")
    kk = checks.integer(k, "k", low=2)
    rng = np.random.default_rng(checks.integer(seed, "seed", low=0))
    # Dirichlet(1/2) pairs reach from nearly equal to nearly disjoint distributions
    p = rng.dirichlet(np.full(kk, 0.5), size=n)
    q = rng.dirichlet(np.full(kk, 0.5), size=n)
    kl = info.kl_divergence(p, q)
    tv = info.total_variation(p, q)
    grid = np.linspace(0.0, 3.0, 200)
    return {"kl": kl, "tv": tv, "grid": grid, "bound": np.minimum(np.sqrt(grid / 2), 1.0)}


def _pinsker_draw(ax, d: dict, values: dict) -> None:
    shown = d["kl"] <= 3.0
    ax.scatter(d["kl"][shown], d["tv"][shown], s=8, color=PALETTE[0], alpha=0.6,
               label="random pairs $(p, q)$")
    ax.plot(d["grid"], d["bound"], color=PALETTE[1], linewidth=2,
            label=r"Pinsker: TV $\leq \sqrt{D_{\mathrm{KL}}/2}$")
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    ax.set_xlim(0, 3.0)
    ax.set_ylim(0, 1.25)
    ax.legend(loc="upper left")


pinsker_gap = FigureSpec(
    "pinsker-gap", "total variation against KL, {n_pairs} random pairs on {k} outcomes",
    _pinsker_data, _pinsker_draw,
    xlabel=r"$D_{{\mathrm{{KL}}}}(p\|q)$ (nats)", ylabel=r"TV$(p, q)$",
    inputs={"n_pairs": 400, "k": 4, "seed": 0},
    doc=r"""Total variation against KL for random pairs of distributions: every point lies under
    Pinsker's curve :math:`\sqrt{D_{\mathrm{KL}}/2}`, which is loose for large KL, where TV
    saturates at 1.  Pinsker (1964); Csiszár (1967).  Chapter ``ch-information``.""",
)


def _dpi_data(flip_2: float) -> dict:
    e2 = checks.fraction(flip_2, "flip_2")
    flips = np.linspace(0.0, 0.5, 101)
    i_xy, i_xz = [], []
    for e1 in flips:
        table = markov_chain_table([0.5, 0.5], binary_symmetric_channel(e1), binary_symmetric_channel(e2))
        i_xy.append(info.mutual_information(table.sum(2), base=2))
        i_xz.append(info.mutual_information(table.sum(1), base=2))
    return {"flips": flips, "i_xy": np.array(i_xy), "i_xz": np.array(i_xz)}


def _dpi_draw(ax, d: dict, values: dict) -> None:
    ax.plot(d["flips"], d["i_xy"], color=PALETTE[0], label=r"$I(X;Y)$")
    ax.plot(d["flips"], d["i_xz"], color=PALETTE[1], linestyle="--", label=r"$I(X;Z) \leq I(X;Y)$")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper right")


dpi_chain = FigureSpec(
    "dpi-chain", r"$X \to Y \to Z$: two binary symmetric channels, the second flips with {flip_2:g}",
    _dpi_data, _dpi_draw,
    xlabel=r"flip probability of the first channel $\varepsilon_1$", ylabel="mutual information (bits)",
    params=(Param.range("flip_2", r"eps2", start=0.0, stop=0.5, step=0.05, default=0.1),),
    doc=r"""A uniform bit :math:`X` sent through two binary symmetric channels,
    :math:`X \to Y \to Z` (:func:`klviz.channels.markov_chain_table`): :math:`I(X;Z)` never exceeds
    :math:`I(X;Y)`, the data-processing inequality.  Chapter ``ch-information``.""",
)


def _quantisation_data(sigmas: tuple) -> dict:
    s = checks.vector(sigmas, "sigmas", positive=True)
    deltas = np.geomspace(1e-3, 2.0, 40)
    rows = {float(v): np.array([quantised_gaussian_entropy(v, dl) + math.log(dl) for dl in deltas]) for v in s}
    return {"deltas": deltas, "rows": rows, "h": {float(v): gaussian_entropy(v) for v in s}}


def _quantisation_draw(ax, d: dict, values: dict) -> None:
    for i, (sigma, y) in enumerate(d["rows"].items()):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(d["deltas"], y, color=color, marker="o", markersize=3,
                label=rf"$H(X_\Delta) + \log\Delta$, $\sigma$ = {sigma:g}")
        ax.axhline(d["h"][sigma], color=color, linestyle=":", linewidth=1.2,
                   label=rf"$h(X)$ = {d['h'][sigma]:.3f}")
    ax.axhline(0.0, color="0.5", linewidth=0.6)
    ax.set_xscale("log")
    ax.legend(loc="center left", fontsize=8)


quantisation = FigureSpec(
    "quantisation", r"quantising $X \sim \mathcal{{N}}(0, \sigma^2)$ to bins of width $\Delta$",
    _quantisation_data, _quantisation_draw,
    xlabel=r"bin width $\Delta$", ylabel="nats",
    inputs={"sigmas": (0.1, 1.0)},
    doc=r"""The entropy of a Gaussian rounded to bins of width :math:`\Delta`, plus
    :math:`\log\Delta`, approaches the differential entropy :math:`h(X) = \frac12\log(2\pi e\sigma^2)`
    as :math:`\Delta \to 0` (:func:`klviz.differential.quantised_gaussian_entropy`); :math:`h` is
    negative for :math:`\sigma = 0.1`.  Cover & Thomas (2006), Thm. 8.3.1.  Chapter ``ch-information``.""",
)
