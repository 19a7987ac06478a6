r"""Figures of chapter ``ch-kl-practice``, *KL divergence in deep learning practice*, each declared once.

- :data:`kd_temperature` -- the teacher's and the student's softened distributions at one
  temperature beside the size of the distillation gradient against :math:`T` (Hinton et al.
  2015); the chapter's static figure, explorer and web slider (over :data:`TEMPERATURES`).
- :data:`estimator_comparison` -- relative bias and spread of the KL estimators
  :math:`k_1, k_2, k_3` against the true KL (Schulman 2020; static).
- :data:`estimator_histograms` -- the distribution of single-sample estimates (static).
- :data:`vae_kl_cost` -- time of the VAE KL term against the latent dimension (static).
- :data:`gkd_fits` -- Gaussian students fitted to a bimodal teacher by the generalized JSD of
  GKD (Agarwal et al. 2024) for several :math:`\beta` (static).

The computation lives in :mod:`klviz.gradients`, :mod:`klviz.estimators` and
:mod:`klviz.fitting`; these functions only arrange and draw it.
"""

from __future__ import annotations

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.estimators import ESTIMATORS
from klviz.examples import KD_STUDENT_LOGITS, TEN_CLASS_LOGITS
from klviz.fitting import GKDFit, gaussian_log_density, mixture_log_density
from klviz.gradients import DEFAULT_KD_TEMPERATURES, kd_gradient, kd_gradient_norms
from klviz.logits import logit_pair
from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param

__all__ = ["TEMPERATURES", "kd_temperature", "estimator_comparison", "estimator_histograms", "vae_kl_cost",
           "gkd_fits"]

#: The temperature slider of the distillation figure: from sharp (0.5) to nearly uniform (100),
#: the range of its gradient-size panel.
TEMPERATURES: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 50.0, 100.0)


# --------------------------------------------------------------------------- knowledge distillation
def _kd_data(teacher_logits, student_logits, temperatures, temperature: float) -> dict:
    zt, zs = logit_pair(teacher_logits, student_logits)
    t = checks.temperature(temperature)
    p, q = info.softmax(zt, temperature=t), info.softmax(zs, temperature=t)
    kl = float(info.kl_divergence(p, q))
    g_with = float(np.linalg.norm(kd_gradient(zt, zs, t)))
    return {"p": p, "q": q, "kl": kl, "t2_kl": t * t * kl, "norms": kd_gradient_norms(zt, zs, temperatures),
            "g_with": g_with, "g_without": g_with / t**2}


def _kd_draw(axes, d: dict, values: dict) -> None:
    ax_bar, ax_grad = axes
    t, size, w = values["temperature"], d["p"].size, 0.4
    k = np.arange(size)
    ax_bar.bar(k - w / 2, d["p"], width=w, color=PALETTE[0], label=r"teacher $p=\mathrm{softmax}(z_t/T)$")
    ax_bar.bar(k + w / 2, d["q"], width=w, color=PALETTE[1], label=r"student $q=\mathrm{softmax}(z_s/T)$")
    ax_bar.axhline(1.0 / size, color=PALETTE[7], linestyle="--", linewidth=1.0, label=f"uniform 1/{size}")
    ax_bar.set_xticks(k)
    ax_bar.set_ylim(0, 1.0)
    ax_bar.legend(loc="upper right")
    g = d["norms"]
    ax_grad.plot(g["T"], g["with_t2"], color=PALETTE[0], label=r"$T^2\,\mathrm{KL}$: $\|T(q-p)\|$")
    ax_grad.plot(g["T"], g["without_t2"], color=PALETTE[1], label=r"$\mathrm{KL}$ alone: $\|(q-p)/T\|$")
    ax_grad.plot(g["T"], g["limit_with_t2"], color=PALETTE[0], linestyle="--", linewidth=1.2,
                 label=r"$\|\bar z_s-\bar z_t\|/C$")
    ax_grad.plot(g["T"], g["limit_without_t2"], color=PALETTE[1], linestyle="--", linewidth=1.2,
                 label=r"$\|\bar z_s-\bar z_t\|/(C T^2)$")
    ax_grad.axvline(t, color=PALETTE[7], linestyle=":", linewidth=1.2)
    ax_grad.plot([t, t], [d["g_without"], d["g_with"]], "o", color=PALETTE[7], markersize=5)
    ax_grad.set_xscale("log")
    ax_grad.set_yscale("log")
    ax_grad.legend(loc="lower left")


kd_temperature = FigureSpec(
    "kd-temperature",
    "T = {temperature:g}: KL = {kl:.4f} nats, T²·KL = {t2_kl:.4f}; "
    "gradient norm {g_with:.3g} with T², {g_without:.3g} without",
    _kd_data, _kd_draw,
    xlabel=("class $k$", "temperature $T$ (log scale)"),
    ylabel=("probability", r"gradient norm $\|\nabla_{{z_s}}\|$ (log scale)"),
    params=(Param("temperature", "T", TEMPERATURES, default=4.0),),
    inputs={"teacher_logits": TEN_CLASS_LOGITS, "student_logits": KD_STUDENT_LOGITS,
            "temperatures": DEFAULT_KD_TEMPERATURES},
    panels=2, figsize=(11.0, 4.2),
    doc=r"""The distillation explorer.  Left: the teacher's :math:`p = \operatorname{softmax}(z_t/T)` and
    the student's :math:`q = \operatorname{softmax}(z_s/T)`, with :math:`D_{\mathrm{KL}}(p\|q)` and
    :math:`T^2 D_{\mathrm{KL}}` in the title.  Right: :math:`\|\nabla_{z_s}\|` against :math:`T`
    (:func:`klviz.gradients.kd_gradient_norms`) with the :math:`T^2` factor, :math:`\|T(q-p)\|`, which
    levels off at :math:`\|\bar z_s - \bar z_t\|/C`, and without it, :math:`\|(q-p)/T\|`, which falls
    like :math:`1/T^2` (dashed asymptotes); the dots mark :math:`T`.  Hinton et al. (2015).
    Chapter ``ch-kl-practice``.""",
)


# --------------------------------------------------------------------------- KL estimators
_EST_COLORS = {"k1": PALETTE[1], "k2": PALETTE[2], "k3": PALETTE[0]}


def _est_label(name: str) -> str:
    return f"${name[0]}_{name[1]}$"


def _comparison_data(rows) -> dict:
    if not rows:
        raise ValueError("rows: give at least one row of klviz.estimators.gaussian_estimator_table()")
    kl = np.array([r["true_kl"] for r in rows], dtype=float)
    order = np.argsort(kl)
    pick = {f"{name}_{what}": np.array([r[f"{name}_rel_{what}"] for r in rows], dtype=float)[order]
            for name in _EST_COLORS for what in ("std", "bias")}
    return {"kl": kl[order], **pick}


def _comparison_draw(axes, d: dict, values: dict) -> None:
    ax_std, ax_bias = axes
    for name, color in _EST_COLORS.items():
        ax_std.plot(d["kl"], d[f"{name}_std"], "o-", color=color, label=_est_label(name))
        ax_bias.plot(d["kl"], d[f"{name}_bias"], "o-", color=color, label=_est_label(name))
    ax_std.set_xscale("log")
    ax_std.set_yscale("log")
    ax_std.legend()
    ax_bias.axhline(0.0, color=PALETTE[7], linewidth=1.0)
    ax_bias.set_xscale("log")
    ax_bias.legend()


_TRUE_KL_AXIS = r"true $D_{{\mathrm{{KL}}}}(p\|q)$ (nats, log scale)"

estimator_comparison = FigureSpec(
    "kl-estimator-comparison", None, _comparison_data, _comparison_draw,
    xlabel=(_TRUE_KL_AXIS, _TRUE_KL_AXIS), ylabel=("std of one sample / true KL", "bias / true KL"),
    inputs={"rows": REQUIRED}, panels=2, figsize=(11.0, 3.8),
    example={"rows": [{"true_kl": kl, **{f"{k}_rel_{w}": v for k in _EST_COLORS for w, v in (("std", s), ("bias", b))}}
                      for kl, s, b in ((0.01, 10.0, 0.01), (0.1, 3.0, 0.02), (1.0, 1.0, 0.1))]},
    doc=r"""Relative standard deviation (left, log-log) and relative bias (right) of one sample's estimate
    :math:`k_1, k_2, k_3` against the true KL; ``rows`` come from
    :func:`klviz.estimators.gaussian_estimator_table` (keys ``true_kl``, ``k1_rel_std``,
    ``k1_rel_bias``, ...).  Schulman (2020).  Chapter ``ch-kl-practice`` (RLHF's KL penalty).""",
)


def _histograms_data(log_ratio, true_kl: float, bins: int) -> dict:
    lr = np.asarray(log_ratio, dtype=float).ravel()
    if lr.size < 2 or not np.all(np.isfinite(lr)):
        raise ValueError("log_ratio: give at least 2 finite log-ratios")
    vals = {name: np.asarray(fn(lr)) for name, fn in ESTIMATORS.items()}
    lo = min(np.quantile(v, 0.005) for v in vals.values())
    hi = max(np.quantile(v, 0.995) for v in vals.values())
    bins = checks.positive_int(bins, "bins")
    return {"vals": vals, "edges": np.linspace(lo, hi, bins + 1),
            "true_kl": checks.nonnegative(true_kl, "true_kl", hint="the exact KL in nats")}


def _histograms_draw(ax, d: dict, values: dict) -> None:
    # k2 and k3 nearly coincide when p is close to q: draw k2 last and dashed so both show
    styles = {"k1": "-", "k3": "-", "k2": "--"}
    for name in ("k1", "k3", "k2"):
        v = d["vals"][name]
        ax.hist(v, bins=d["edges"], density=True, histtype="step", linewidth=1.8, color=_EST_COLORS[name],
                linestyle=styles[name], label=f"{_est_label(name)}: mean {v.mean():.4f}")
    ax.axvline(d["true_kl"], color=PALETTE[7], linestyle="--", linewidth=1.2, label=f"true KL = {d['true_kl']:.4f}")
    ax.legend(loc="upper right")


estimator_histograms = FigureSpec(
    "kl-estimator-histograms", None, _histograms_data, _histograms_draw,
    xlabel="single-sample estimate (nats)", ylabel="density",
    inputs={"log_ratio": REQUIRED, "true_kl": REQUIRED, "bins": 80},
    example={"log_ratio": np.linspace(-1.5, 1.0, 200), "true_kl": 0.125},
    doc=r"""Histograms of the single-sample estimates :math:`k_1, k_2, k_3` of
    :func:`klviz.estimators.ESTIMATORS` with the true KL marked: :math:`k_1` takes negative values,
    :math:`k_2` and :math:`k_3` never do; the means of :math:`k_1` and :math:`k_3` sit on the true KL.
    Schulman (2020).  Chapter ``ch-kl-practice`` (RLHF's KL penalty).""",
)


# --------------------------------------------------------------------------- VAE cost
def _vae_data(dims, seconds, batch) -> dict:
    d = checks.vector(dims, "dims", min_size=2, positive=True)
    s = checks.vector(seconds, "seconds", min_size=2, positive=True)
    if d.shape != s.shape:
        raise ValueError(f"dims and seconds: give two 1-D arrays of equal length, got {d.size} and {s.size}")
    return {"d": d, "us": s * 1e6, "suffix": f" for a batch of {batch}" if batch else ""}


def _vae_draw(ax, d: dict, values: dict) -> None:
    ax.plot(d["d"], d["us"], "o-", color=PALETTE[0], label="measured")
    # a line of slope 1 (O(d)) through the largest measurement
    ax.plot(d["d"], d["us"][-1] * d["d"] / d["d"][-1], "--", color=PALETTE[7], linewidth=1.2,
            label=r"$\propto d$ (slope 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(loc="upper left")


vae_kl_cost = FigureSpec(
    "vae-kl-cost", None, _vae_data, _vae_draw,
    xlabel="latent dimension $d$ (log scale)", ylabel="time per call (µs){suffix}",
    inputs={"dims": REQUIRED, "seconds": REQUIRED, "batch": None},
    example={"dims": (10, 100, 1000), "seconds": (1e-5, 2e-5, 1e-4), "batch": 32},
    doc=r"""Time of the closed-form VAE KL term (Kingma and Welling 2014) against the latent dimension
    :math:`d` on log-log axes, with a line of slope 1 (:math:`O(d)`) through the largest measurement.
    Chapter ``ch-kl-practice`` (The KL term of a VAE).""",
)


# --------------------------------------------------------------------------- GKD
def _gkd_data(x, log_p, fits, show_betas) -> dict:
    if not fits:
        raise ValueError("fits: give the fits returned by klviz.fitting.gkd_fits()")
    x = checks.vector(x, "x", min_size=3, increasing=True)
    p = np.exp(np.asarray(log_p, dtype=float))
    shown = [f for f in fits if any(abs(f.beta - b) < 1e-12 for b in show_betas)]
    if not shown:
        raise ValueError(f"show_betas: none of {tuple(show_betas)} is among the fitted betas")
    return {"x": x, "p": p / (p.sum() * float(x[1] - x[0])),  # a density on the grid
            "shown": [(f, np.exp(gaussian_log_density(x, f.mu, f.sigma))) for f in shown],
            "betas": np.array([f.beta for f in fits]), "mu": [f.mu for f in fits], "sigma": [f.sigma for f in fits]}


_GKD_COLORS = [PALETTE[i] for i in (1, 2, 0, 4, 3, 5, 6)]


def _gkd_draw(axes, d: dict, values: dict) -> None:
    ax_d, ax_p = axes
    x = d["x"]
    ax_d.fill_between(x, d["p"], color="0.85", label="teacher $p$ (mixture)")
    for i, (f, q) in enumerate(d["shown"]):
        ax_d.plot(x, q, color=_GKD_COLORS[i % len(_GKD_COLORS)], linestyle=("-", "--", ":")[i % 3],
                  label=rf"$\beta$ = {f.beta:g}: $\mu$ = {f.mu:.2f}, $\sigma$ = {f.sigma:.2f}")
    ax_d.set_xlim(float(x[0]) / 1.5, float(x[-1]) / 1.5)
    ax_d.legend(loc="upper right", fontsize=8)
    ax_p.plot(d["betas"], d["mu"], "o-", color=PALETTE[0], label=r"student mean $\mu$")
    ax_p.plot(d["betas"], d["sigma"], "s-", color=PALETTE[1], label=r"student std $\sigma$")
    ax_p.legend(loc="center left")


_GKD_X = np.linspace(-10.0, 10.0, 201)

gkd_fits = FigureSpec(
    "gkd-fits", None, _gkd_data, _gkd_draw,
    xlabel=("$x$", r"$\beta$ (0 = forward KL, 1 = reverse KL)"), ylabel=("density", "fitted parameter"),
    inputs={"x": REQUIRED, "log_p": REQUIRED, "fits": REQUIRED, "show_betas": (0.0, 0.5, 1.0)},
    example={"x": _GKD_X, "log_p": mixture_log_density(_GKD_X, separation=5.0, weight=0.7),
             "fits": [GKDFit(0.0, -1.0, 2.6, 0.1), GKDFit(0.5, -1.1, 2.5, 0.05), GKDFit(1.0, -2.5, 1.0, 0.2)]},
    panels=2, figsize=(11.0, 3.9),
    doc=r"""The bimodal teacher with the Gaussian students of :func:`klviz.fitting.gkd_fits` for the
    :math:`\beta` in ``show_betas`` (left), and the fitted :math:`\mu, \sigma` against :math:`\beta`
    (right).  Small :math:`\beta` behaves like forward KL (a broad student covering both modes),
    large :math:`\beta` like reverse KL (a narrow student on the heavier mode).  Agarwal et al.
    (2024), GKD.  Chapter ``ch-kl-practice``.""",
)
