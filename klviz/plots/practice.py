r"""Figures for chapter ``ch-kl-practice``, *KL divergence in deep learning practice* (label ``ch-kl-practice``).

- :func:`plot_kd_temperature` -- the teacher's and the student's softened distributions at one
  temperature, beside the gradient size against :math:`T` (the chapter's central explorer).
- :func:`plot_gradient_scale` -- gradient norm against :math:`T`, with and without :math:`T^2`,
  and the high-temperature asymptotes.
- :func:`plot_estimator_comparison` -- relative bias and spread of the KL estimators
  :math:`k_1, k_2, k_3` (:mod:`klviz.estimators`) against the true KL.
- :func:`plot_estimator_histograms` -- the distribution of single-sample estimates.
- :func:`plot_vae_kl_cost` -- time of the VAE KL term against the latent dimension.
- :func:`plot_gkd_fits` -- the Gaussian students of :func:`klviz.fitting.gkd_fits`, fitted to a
  bimodal teacher by the generalized JSD of GKD for several :math:`\beta`.

The computation lives in :mod:`klviz.gradients` and :mod:`klviz.fitting`.

All plot functions take ``ax=None`` and return the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.fitting import GKDFit
from klviz.gradients import DEFAULT_KD_TEMPERATURES, kd_gradient, kd_gradient_norms
from klviz.logits import logit_pair
from klviz.plots.style import PALETTE, new_axes, new_axes_row

__all__ = [
    "plot_kd_temperature",
    "plot_gradient_scale",
    "plot_estimator_comparison",
    "plot_estimator_histograms",
    "plot_vae_kl_cost",
    "plot_gkd_fits",
]

def plot_gradient_scale(
    teacher_logits: Sequence[float] | np.ndarray = TEN_CLASS_LOGITS,
    student_logits: Sequence[float] | np.ndarray = KD_STUDENT_LOGITS,
    temperatures: Sequence[float] | np.ndarray = DEFAULT_KD_TEMPERATURES,
    *,
    marker: float | None = None,
    ax=None,
):
    r"""Log-log plot of :math:`\|\nabla_{z_s}\|` against :math:`T`, with and without :math:`T^2`.

    Without the factor the gradient falls like :math:`1/T^2` at high temperature; with it, it
    levels off at :math:`\|\bar z_s - \bar z_t\|/C` (dashed asymptotes).  ``marker`` draws a
    vertical line at one temperature.  Chapter ``ch-kl-practice`` (Knowledge distillation).
    """
    g = kd_gradient_norms(teacher_logits, student_logits, temperatures)
    fig, ax = new_axes(ax)
    ax.plot(g["T"], g["with_t2"], color=PALETTE[0], label=r"$T^2\,\mathrm{KL}$: $\|T(q-p)\|$")
    ax.plot(g["T"], g["without_t2"], color=PALETTE[1], label=r"$\mathrm{KL}$ alone: $\|(q-p)/T\|$")
    ax.plot(g["T"], g["limit_with_t2"], color=PALETTE[0], linestyle="--", linewidth=1.2, label=r"$\|\bar z_s-\bar z_t\|/C$")
    ax.plot(g["T"], g["limit_without_t2"], color=PALETTE[1], linestyle="--", linewidth=1.2, label=r"$\|\bar z_s-\bar z_t\|/(C T^2)$")
    if marker is not None:
        ax.axvline(checks.temperature(marker), color=PALETTE[7], linestyle=":", linewidth=1.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("temperature $T$ (log scale)")
    ax.set_ylabel(r"gradient norm $\|\nabla_{z_s}\|$ (log scale)")
    ax.legend(loc="lower left")
    return fig


def plot_kd_temperature(
    teacher_logits: Sequence[float] | np.ndarray = TEN_CLASS_LOGITS,
    student_logits: Sequence[float] | np.ndarray = KD_STUDENT_LOGITS,
    temperature: float = 4.0,
    *,
    temperatures: Sequence[float] | np.ndarray = DEFAULT_KD_TEMPERATURES,
    ax=None,
):
    r"""The distillation explorer: softened distributions at :math:`T` and the gradient size.

    Left: bars of the teacher's :math:`p = \operatorname{softmax}(z_t/T)` and the student's
    :math:`q = \operatorname{softmax}(z_s/T)`, with :math:`T^2 D_{\mathrm{KL}}(p\|q)` in the
    title.  Right: :func:`plot_gradient_scale` with a marker at :math:`T`.  ``ax``, if given,
    is a pair of axes.  Chapter ``ch-kl-practice`` (Knowledge distillation).
    """
    zt, zs = logit_pair(teacher_logits, student_logits)
    t = checks.temperature(temperature)
    fig, (ax_bar, ax_grad) = new_axes_row(ax, figsize=(11.0, 3.9))
    p = info.softmax(zt, temperature=t)
    q = info.softmax(zs, temperature=t)
    kl = float(info.kl_divergence(p, q))
    k = np.arange(zt.size)
    w = 0.4
    ax_bar.bar(k - w / 2, p, width=w, color=PALETTE[0], label=r"teacher $p=\mathrm{softmax}(z_t/T)$")
    ax_bar.bar(k + w / 2, q, width=w, color=PALETTE[1], label=r"student $q=\mathrm{softmax}(z_s/T)$")
    ax_bar.axhline(1.0 / zt.size, color=PALETTE[7], linestyle="--", linewidth=1.0, label=f"uniform 1/{zt.size}")
    ax_bar.set_xticks(k)
    ax_bar.set_ylim(0, 1.0)
    ax_bar.set_xlabel("class $k$")
    ax_bar.set_ylabel("probability")
    ax_bar.set_title(f"T = {t:g}: KL = {kl:.4f} nats, T²·KL = {t * t * kl:.4f}")
    ax_bar.legend(loc="upper right")
    plot_gradient_scale(zt, zs, temperatures, marker=t, ax=ax_grad)
    g_with = float(np.linalg.norm(kd_gradient(zt, zs, t)))
    ax_grad.set_title(f"gradient norm at T = {t:g}: {g_with:.3g} (with T²), {g_with / t**2:.3g} (without)")
    ax_grad.plot([t, t], [g_with / t**2, g_with], "o", color=PALETTE[7], markersize=5)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- KL estimators
_EST_COLORS = {"k1": PALETTE[1], "k2": PALETTE[2], "k3": PALETTE[0]}


def plot_estimator_comparison(rows: Sequence[Mapping[str, float]], *, ax=None):
    r"""Relative standard deviation and relative bias of :math:`k_1, k_2, k_3` against the true KL.

    ``rows`` come from :func:`klviz.estimators.gaussian_estimator_table` (keys ``true_kl``,
    ``k1_rel_std``, ``k1_rel_bias``, ...).  Left: :math:`\mathrm{std}/\mathrm{KL}` of one
    sample's estimate (log-log); right: :math:`\mathrm{bias}/\mathrm{KL}`.  ``ax``, if given,
    is a pair of axes.  Chapter ``ch-kl-practice`` (RLHF's KL penalty).
    """
    if not rows:
        raise ValueError("rows: give at least one row of gaussian_estimator_table()")
    fig, (ax_std, ax_bias) = new_axes_row(ax, figsize=(11.0, 3.8))
    kl = np.array([r["true_kl"] for r in rows], dtype=float)
    order = np.argsort(kl)
    kl = kl[order]
    for name, color in _EST_COLORS.items():
        std = np.array([r[f"{name}_rel_std"] for r in rows], dtype=float)[order]
        bias = np.array([r[f"{name}_rel_bias"] for r in rows], dtype=float)[order]
        ax_std.plot(kl, std, "o-", color=color, label=f"${name[0]}_{name[1]}$")
        ax_bias.plot(kl, bias, "o-", color=color, label=f"${name[0]}_{name[1]}$")
    ax_std.set_xscale("log")
    ax_std.set_yscale("log")
    ax_std.set_xlabel(r"true $D_{\mathrm{KL}}(p\|q)$ (nats, log scale)")
    ax_std.set_ylabel("std of one sample / true KL")
    ax_std.legend()
    ax_bias.axhline(0.0, color=PALETTE[7], linewidth=1.0)
    ax_bias.set_xscale("log")
    ax_bias.set_xlabel(r"true $D_{\mathrm{KL}}(p\|q)$ (nats, log scale)")
    ax_bias.set_ylabel("bias / true KL")
    ax_bias.legend()
    fig.tight_layout()
    return fig


def plot_estimator_histograms(
    log_ratio: Sequence[float] | np.ndarray, true_kl: float, *, bins: int = 80, ax=None
):
    r"""Histograms of the single-sample estimates :math:`k_1, k_2, k_3` with the true KL marked.

    :math:`k_1` takes negative values, :math:`k_2` and :math:`k_3` never do; the means of
    :math:`k_1` and :math:`k_3` sit on the true KL.  Chapter ``ch-kl-practice`` (RLHF's KL penalty).
    """
    from klviz.estimators import ESTIMATORS

    lr = np.asarray(log_ratio, dtype=float).ravel()
    if lr.size < 2 or not np.all(np.isfinite(lr)):
        raise ValueError("log_ratio: give at least 2 finite log-ratios")
    fig, ax = new_axes(ax)
    vals = {name: np.asarray(fn(lr)) for name, fn in ESTIMATORS.items()}
    lo = min(np.quantile(v, 0.005) for v in vals.values())
    hi = max(np.quantile(v, 0.995) for v in vals.values())
    edges = np.linspace(lo, hi, bins + 1)
    # k2 and k3 nearly coincide when p is close to q: draw k2 last and dashed so both show
    styles = {"k1": "-", "k3": "-", "k2": "--"}
    for name in ("k1", "k3", "k2"):
        v = vals[name]
        ax.hist(v, bins=edges, density=True, histtype="step", linewidth=1.8, color=_EST_COLORS[name],
                linestyle=styles[name], label=f"${name[0]}_{name[1]}$: mean {v.mean():.4f}")
    ax.axvline(float(true_kl), color=PALETTE[7], linestyle="--", linewidth=1.2, label=f"true KL = {float(true_kl):.4f}")
    ax.set_xlabel("single-sample estimate (nats)")
    ax.set_ylabel("density")
    ax.legend(loc="upper right")
    return fig


# --------------------------------------------------------------------------- VAE cost
def plot_vae_kl_cost(
    dims: Sequence[int] | np.ndarray, seconds: Sequence[float] | np.ndarray, *, batch: int | None = None, ax=None
):
    r"""Time of the closed-form VAE KL term against the latent dimension :math:`d` (log-log),
    with a line of slope 1 (:math:`O(d)`) through the largest measurement.

    Chapter ``ch-kl-practice`` (The KL term of a VAE).
    """
    d = np.asarray(dims, dtype=float)
    s = np.asarray(seconds, dtype=float)
    if d.shape != s.shape or d.ndim != 1 or d.size < 2:
        raise ValueError("dims and seconds: give two 1-D arrays of equal length (at least 2 points)")
    if (d <= 0).any() or (s <= 0).any():
        raise ValueError("dims and seconds must be positive")
    fig, ax = new_axes(ax)
    ax.plot(d, s * 1e6, "o-", color=PALETTE[0], label="measured")
    ax.plot(d, s[-1] * 1e6 * d / d[-1], "--", color=PALETTE[7], linewidth=1.2, label=r"$\propto d$ (slope 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latent dimension $d$ (log scale)")
    suffix = f" for a batch of {batch}" if batch else ""
    ax.set_ylabel(f"time per call (µs){suffix}")
    ax.legend(loc="upper left")
    return fig


# --------------------------------------------------------------------------- GKD
def plot_gkd_fits(
    x: np.ndarray,
    log_p: np.ndarray,
    fits: Sequence[GKDFit],
    *,
    show_betas: Sequence[float] = (0.0, 0.5, 1.0),
    ax=None,
):
    r"""The bimodal teacher with the Gaussian students of :func:`klviz.fitting.gkd_fits`, and the fitted
    :math:`\mu, \sigma` against :math:`\beta`.

    Left: the teacher density (grey) and the students for the :math:`\beta` in ``show_betas``.
    Right: :math:`\mu(\beta)` and :math:`\sigma(\beta)` of every fit.  Small :math:`\beta`
    behaves like forward KL (a broad student covering both modes), large :math:`\beta` like
    reverse KL (a narrow student on the heavier mode).  ``ax``, if given, is a pair of axes.
    Chapter ``ch-kl-practice`` (GKD).
    """
    from klviz import fitting

    if not fits:
        raise ValueError("fits: give the fits returned by klviz.fitting.gkd_fits()")
    x = np.asarray(x, dtype=float)
    fig, (ax_d, ax_p) = new_axes_row(ax, figsize=(11.0, 3.9))
    dx = float(x[1] - x[0])
    p = np.exp(np.asarray(log_p, dtype=float))
    p = p / (p.sum() * dx)
    ax_d.fill_between(x, p, color="0.85", label="teacher $p$ (mixture)")
    colors = [PALETTE[i] for i in (1, 2, 0, 4, 3, 5, 6)]
    shown = [f for f in fits if any(abs(f.beta - b) < 1e-12 for b in show_betas)]
    if not shown:
        raise ValueError(f"show_betas: none of {tuple(show_betas)} is among the fitted betas")
    for i, f in enumerate(shown):
        q = np.exp(fitting.gaussian_log_density(x, f.mu, f.sigma))
        ax_d.plot(x, q, color=colors[i % len(colors)], linestyle=("-", "--", ":")[i % 3],
                  label=rf"$\beta$ = {f.beta:g}: $\mu$ = {f.mu:.2f}, $\sigma$ = {f.sigma:.2f}")
    ax_d.set_xlim(float(x[0]) / 1.5, float(x[-1]) / 1.5)
    ax_d.set_xlabel("$x$")
    ax_d.set_ylabel("density")
    ax_d.legend(loc="upper right", fontsize=8)
    b = np.array([f.beta for f in fits])
    ax_p.plot(b, [f.mu for f in fits], "o-", color=PALETTE[0], label=r"student mean $\mu$")
    ax_p.plot(b, [f.sigma for f in fits], "s-", color=PALETTE[1], label=r"student std $\sigma$")
    ax_p.set_xlabel(r"$\beta$ (0 = forward KL, 1 = reverse KL)")
    ax_p.set_ylabel("fitted parameter")
    ax_p.legend(loc="center left")
    fig.tight_layout()
    return fig
