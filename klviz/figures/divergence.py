r"""Figures of chapter ``ch-kl``, *KL divergence*, each declared once.

- :data:`mode_fit` -- forward vs reverse KL fits of one Gaussian to a bimodal mixture (static
  figure, explorer over separation and weight, web slider over the separation).
- :data:`kl_blowup` -- KL as the model's probability of a possible outcome goes to 0 (static).
- :data:`shift_divergence` -- JS and Wasserstein between shifted boxes (static).

The computation lives in :mod:`klviz.fitting` and :mod:`klviz.support`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from klviz import _checks as checks
from klviz.fitting import default_grid, fit_mixture, gaussian_log_density, mixture_log_density
from klviz.support import box_shift_divergences, kl_blowup_curves
from klviz.viz import PALETTE, FigureSpec, Param

__all__ = ["mode_fit", "kl_blowup", "shift_divergence"]


@functools.lru_cache(maxsize=256)
def _fits(separation: float, weight: float, sigma: float) -> tuple:
    # each fit is an L-BFGS run; the static figure, the explorer and the web frames share them
    fits = fit_mixture(separation, weight, sigma=sigma, x=default_grid())
    return fits["forward"], fits["reverse"]


def _mode_fit_data(separation: float, weight: float, sigma: float) -> dict:
    x = default_grid()
    xs = x[np.abs(x) <= max(8.0, separation / 2 + 4 * sigma)]
    forward, reverse = _fits(float(separation), float(weight), float(sigma))
    fits = {"forward": forward, "reverse": reverse}
    return {"x": xs, "p": np.exp(mixture_log_density(xs, separation=separation, weight=weight, sigma=sigma)),
            "fits": fits, "q": {k: np.exp(gaussian_log_density(xs, f.mu, f.sigma)) for k, f in fits.items()}}


_FIT_STYLES = {"forward": (PALETTE[0], "-", r"forward KL$(p\|q)$ fit"),
               "reverse": (PALETTE[1], "--", r"reverse KL$(q\|p)$ fit")}


def _mode_fit_draw(ax, d: dict, values: dict) -> None:
    ax.fill_between(d["x"], d["p"], color="0.75", label="target $p$ (mixture)")
    ax.plot(d["x"], d["p"], color="0.35", linewidth=1)
    for direction, fit in d["fits"].items():
        color, ls, label = _FIT_STYLES[direction]
        # + 0.0 turns a printed -0.00 into 0.00
        ax.plot(d["x"], d["q"][direction], color=color, linestyle=ls,
                label=rf"{label}: $\mu$ = {round(fit.mu, 2) + 0.0:.2f}, $\sigma$ = {fit.sigma:.2f}")
    ymax = max(float(d["p"].max()), *(float(q.max()) for q in d["q"].values()))
    ax.set_ylim(0, 1.6 * ymax)  # head-room above the curves keeps the legend off them
    ax.legend(loc="upper left", fontsize=8)


mode_fit = FigureSpec(
    "mode-fit", "Gaussian fits to a mixture: separation {separation:g}, weight {weight:g}", _mode_fit_data, _mode_fit_draw,
    xlabel="$x$", ylabel="density",
    params=(Param.range("separation", "separation", start=0.0, stop=8.0, step=0.5, default=6.0, fmt="{:.1f}"),
            Param.range("weight", "weight", start=0.05, stop=0.95, step=0.05, default=0.5)),
    inputs={"sigma": 1.0},
    doc=r"""A bimodal mixture :math:`p` (filled) with the Gaussian that minimises the forward KL
    :math:`D_{\mathrm{KL}}(p\|q)` (mode covering) and the one that minimises the reverse KL
    :math:`D_{\mathrm{KL}}(q\|p)` (mode seeking), fitted by :func:`klviz.fitting.fit_mixture`.
    Chapter ``ch-kl``.""",
)


def _blowup_data(p_rare: float) -> dict:
    eps = np.geomspace(1e-12, 0.5, 300)
    return {"eps": eps, "curves": kl_blowup_curves(eps, p_rare), "q_rare": 1 - p_rare}


def _blowup_draw(ax, d: dict, values: dict) -> None:
    a, c, eps = values["p_rare"], d["curves"], d["eps"]
    ax.plot(eps, c["forward"], color=PALETTE[0], label=r"forward $D_{\mathrm{KL}}(p\|q)$")
    ax.plot(eps, c["asymptote"], color=PALETTE[0], linestyle=":", linewidth=1.2,
            label=rf"${a:g}\,\log({a:g}/\varepsilon) + {1 - a:g}\log {1 - a:g}$")
    ax.plot(eps, c["reverse"], color=PALETTE[1], linestyle="--", label=r"reverse $D_{\mathrm{KL}}(q\|p)$")
    ax.plot(eps, c["js"], color=PALETTE[2], linestyle="-.", label=r"$D_{\mathrm{JS}}(p\|q)$")
    ax.axhline(math.log(2), color="0.5", linewidth=0.8)
    ax.text(2e-12, math.log(2) + 0.1, r"$\log 2$", color="0.3", fontsize=8)
    ax.set_xscale("log")
    ax.legend(loc="upper right")


kl_blowup = FigureSpec(
    "kl-blowup", r"$p$ = ({p_rare:g}, {q_rare:g}),  $q$ = ($\varepsilon$, 1 $-$ $\varepsilon$)", _blowup_data, _blowup_draw,
    xlabel=r"model probability $\varepsilon = q(\text{{rare outcome}})$", ylabel="divergence (nats)",
    inputs={"p_rare": 0.2},
    doc=r"""What happens as the model's probability :math:`\varepsilon` of an outcome that has true
    probability ``p_rare`` goes to 0: the forward KL grows without bound, the reverse KL and JS
    stay bounded (:func:`klviz.support.kl_blowup_curves`).  Chapter ``ch-kl``.""",
)


def _shift_data(max_shift: float) -> dict:
    return box_shift_divergences(np.linspace(0.0, checks.positive(max_shift, "max_shift"), 61), n_per_unit=100)


def _shift_draw(ax, d: dict, values: dict) -> None:
    ax.plot(d["shift"], d["wasserstein"], color=PALETTE[0], label="Wasserstein-1 $W_1$")
    ax.plot(d["shift"], d["js"], color=PALETTE[2], linestyle="-.", label=r"$D_{\mathrm{JS}}$ (saturates at $\log 2$)")
    ax.plot([0.0], [d["kl"][0]], "o", color=PALETTE[1], label=r"$D_{\mathrm{KL}}$: 0 at $s=0$, $+\infty$ for every $s>0$")
    ax.axhline(math.log(2), color="0.5", linewidth=0.8)
    ax.legend(loc="upper left")


shift_divergence = FigureSpec(
    "shift-divergence", r"$p = U[0,1]$ against $q = U[s, s+1]$", _shift_data, _shift_draw,
    xlabel="shift $s$", ylabel="divergence / distance (nats, units of $x$)",
    inputs={"max_shift": 3.0},
    doc=r"""JS and Wasserstein-1 between :math:`U[0,1]` and :math:`U[s, s+1]` against the shift :math:`s`
    (:func:`klviz.support.box_shift_divergences`); the KL is :math:`+\infty` for every :math:`s > 0`.
    JS saturates at :math:`\log 2` once the supports are disjoint, so its gradient in :math:`s` is
    zero there; Wasserstein keeps growing linearly (Arjovsky et al. 2017).  Chapter ``ch-kl``.""",
)
