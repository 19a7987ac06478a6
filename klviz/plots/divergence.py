r"""Figures of chapter ``ch-kl``, KL divergence: forward vs reverse KL fits of one Gaussian to a
bimodal mixture, the blow-up of KL as :math:`q \to 0`, and KL / JS / Wasserstein between
shifted distributions."""

from __future__ import annotations

import math

import numpy as np

from klviz.fitting import default_grid, fit_mixture, gaussian_log_density, mixture_log_density
from klviz.plots.style import PALETTE, new_axes
from klviz.support import box_shift_divergences, kl_blowup_curves

__all__ = [
    "mode_fit_figure",
    "kl_blowup_figure",
    "shift_divergence_figure",
]


def mode_fit_figure(separation: float = 6.0, weight: float = 0.5, *, sigma: float = 1.0,
                    ax=None):
    r"""A bimodal mixture :math:`p` (filled) with the Gaussian that minimises the forward KL
    :math:`D_{\mathrm{KL}}(p\|q)` (mode covering) and the one that minimises the reverse KL
    :math:`D_{\mathrm{KL}}(q\|p)` (mode seeking), fitted by :func:`klviz.fitting.fit_mixture`.
    Chapter ``ch-kl`` (KL divergence)."""
    fig, ax = new_axes(ax)
    x = default_grid()
    fits = fit_mixture(separation, weight, sigma=sigma, x=x)
    shown = np.abs(x) <= max(8.0, separation / 2 + 4 * sigma)
    xs = x[shown]
    p = np.exp(mixture_log_density(xs, separation=separation, weight=weight, sigma=sigma))
    ax.fill_between(xs, p, color="0.75", label="target $p$ (mixture)")
    ax.plot(xs, p, color="0.35", linewidth=1)
    styles = {"forward": (PALETTE[0], "-", r"forward KL$(p\|q)$ fit"),
              "reverse": (PALETTE[1], "--", r"reverse KL$(q\|p)$ fit")}
    for direction, fit in fits.items():
        color, ls, label = styles[direction]
        q = np.exp(gaussian_log_density(xs, fit.mu, fit.sigma))
        ax.plot(xs, q, color=color, linestyle=ls,
                # + 0.0 turns a printed -0.00 into 0.00
                label=rf"{label}: $\mu$ = {round(fit.mu, 2) + 0.0:.2f}, $\sigma$ = {fit.sigma:.2f}")
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.set_title(f"Gaussian fits to a mixture: separation {separation:g}, weight {weight:g}")
    ymax = max(float(p.max()), *(float(np.exp(gaussian_log_density(xs, f.mu, f.sigma)).max()) for f in fits.values()))
    ax.set_ylim(0, 1.6 * ymax)  # head-room above the curves keeps the legend off them
    ax.legend(loc="upper left", fontsize=8)
    return fig


def kl_blowup_figure(p_rare: float = 0.2, *, ax=None):
    r"""What happens as the model's probability :math:`\varepsilon` of an outcome that has
    true probability ``p_rare`` goes to 0: forward KL grows without bound, the reverse KL
    and JS stay bounded.  Log-scaled :math:`\varepsilon` axis.  Chapter ``ch-kl`` (KL divergence)."""
    fig, ax = new_axes(ax)
    eps = np.geomspace(1e-12, 0.5, 300)
    c = kl_blowup_curves(eps, p_rare)
    ax.plot(eps, c["forward"], color=PALETTE[0], label=r"forward $D_{\mathrm{KL}}(p\|q)$")
    ax.plot(eps, c["asymptote"], color=PALETTE[0], linestyle=":", linewidth=1.2,
            label=rf"${p_rare:g}\,\log({p_rare:g}/\varepsilon) + {1 - p_rare:g}\log {1 - p_rare:g}$")
    ax.plot(eps, c["reverse"], color=PALETTE[1], linestyle="--",
            label=r"reverse $D_{\mathrm{KL}}(q\|p)$")
    ax.plot(eps, c["js"], color=PALETTE[2], linestyle="-.", label=r"$D_{\mathrm{JS}}(p\|q)$")
    ax.axhline(math.log(2), color="0.5", linewidth=0.8)
    ax.text(2e-12, math.log(2) + 0.1, r"$\log 2$", color="0.3", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(r"model probability $\varepsilon = q(\text{rare outcome})$")
    ax.set_ylabel("divergence (nats)")
    ax.set_title(rf"$p$ = ({p_rare:g}, {1 - p_rare:g}),  $q$ = ($\varepsilon$, 1 $-$ $\varepsilon$)")
    ax.legend(loc="upper right")
    return fig


def shift_divergence_figure(max_shift: float = 3.0, *, ax=None):
    r"""JS and Wasserstein-1 between :math:`U[0,1]` and :math:`U[s, s+1]` against the shift
    :math:`s`; the KL is :math:`+\infty` for every :math:`s > 0`.  JS saturates at
    :math:`\log 2` once the supports are disjoint, so its gradient in :math:`s` is zero there;
    Wasserstein keeps growing linearly (Arjovsky et al. 2017).  Chapter ``ch-kl`` (KL divergence)."""
    if not max_shift > 0:
        raise ValueError(f"max_shift must be > 0, got {max_shift!r}")
    fig, ax = new_axes(ax)
    d = box_shift_divergences(np.linspace(0.0, max_shift, 61), n_per_unit=100)
    ax.plot(d["shift"], d["wasserstein"], color=PALETTE[0], label="Wasserstein-1 $W_1$")
    ax.plot(d["shift"], d["js"], color=PALETTE[2], linestyle="-.",
            label=r"$D_{\mathrm{JS}}$ (saturates at $\log 2$)")
    ax.plot([0.0], [d["kl"][0]], "o", color=PALETTE[1],
            label=r"$D_{\mathrm{KL}}$: 0 at $s=0$, $+\infty$ for every $s>0$")
    ax.axhline(math.log(2), color="0.5", linewidth=0.8)
    ax.set_xlabel("shift $s$")
    ax.set_ylabel("divergence / distance (nats, units of $x$)")
    ax.set_title(r"$p = U[0,1]$ against $q = U[s, s+1]$")
    ax.legend(loc="upper left")
    return fig
