r"""Figures of chapter ``ch-vi``, *variational inference and the VAE*, each declared once.

- :data:`rate_distortion` -- the VAE's test distortion against its rate across :math:`\beta`
  (mean over seeds, one dot per run), the selected :math:`\beta` marked with its line of equal
  ELBO :math:`D + R = \text{const}`; static figure, explorer and web slider over :math:`\beta`.
- :data:`kl_per_dimension` -- the rate of each latent dimension (sorted), the active-unit
  threshold dashed; slider over :math:`\beta`.
- :data:`rate_curves` -- the test rate after each epoch, one line per :math:`\beta` (static).
- :data:`image_grid` -- rows of 8x8 images (data, reconstructions, samples), drawn as square
  markers so that the web renderer converts them too (static).
- :data:`estimator_variance` -- per-sample variance of the reparameterisation and score-function
  estimators of :math:`\partial_\mu \mathbb E[f(z)]` against :math:`\sigma` (static).

The runs come from :func:`klviz.vi.sweep.beta_sweep`, the estimators from :mod:`klviz.vi.estimators`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from klviz.vi.estimators import estimator_stats, reparam_gradients, score_gradients
from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param

__all__ = ["estimator_variance", "image_grid", "kl_per_dimension", "rate_curves", "rate_distortion"]


def _betas(inputs: Mapping) -> tuple[float, ...]:
    return tuple(float(b) for b in inputs["sweep"].betas)


def _example_sweep():
    from klviz.vi.sweep import BetaSweep

    rate = np.array([[8.0, 8.4], [2.5, 2.3], [0.1, 0.0]])
    kl = np.stack([rate / 2, rate / 2], axis=-1)
    return BetaSweep((0.3, 1.0, 4.0), (0, 1), rate=rate, distortion=np.array([[19.0, 19.2], [22.5, 23.0], [27.3, 27.2]]),
                     kl=kl, active=np.array([[2, 2], [2, 2], [0, 0]]), rate_curve=np.repeat(rate[:, :, None], 3, -1),
                     threshold=0.01)


def _rd_data(sweep, beta: float) -> dict:
    i = sweep.index(beta)
    return {"rate": sweep.rate, "distortion": sweep.distortion, "i": i, "betas": sweep.betas,
            "r": float(sweep.rate[i].mean()), "d": float(sweep.distortion[i].mean())}


def _rd_draw(ax, d: dict, values: dict) -> None:
    r, dist, i = d["rate"], d["distortion"], d["i"]
    ax.plot(r.mean(1), dist.mean(1), "-", color=PALETTE[0], label="mean over seeds")
    ax.scatter(r.ravel(), dist.ravel(), color=PALETTE[0], s=14, alpha=0.6, label="one run")
    c = d["r"] + d["d"]
    lo, hi = 0.0, float(r.max()) * 1.05 + 0.5
    ax.plot([lo, hi], [c - lo, c - hi], "--", color=PALETTE[2], label=f"equal ELBO: D + R = {c:.1f}")
    ax.scatter([d["r"]], [d["d"]], color=PALETTE[1], s=60, zorder=3, label=f"β = {values['beta']:g}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(float(dist.min()) - 1.0, float(dist.max()) + 1.0)
    ax.legend(loc="upper right")


rate_distortion = FigureSpec(
    "vi-rate-distortion", "β = {beta:g}: rate {r:.2f}, distortion {d:.2f} nats per image", _rd_data, _rd_draw,
    xlabel="rate R = KL(q(z|x) ‖ p(z)) (nats per image)", ylabel="distortion D = −log p(x|z) (nats per image)",
    params=(Param("beta", "β", _betas),),
    inputs={"sweep": REQUIRED},
    example={"sweep": _example_sweep()},
    doc=r"""Test distortion :math:`D` against rate :math:`R` of VAEs trained with :math:`D + \beta R`
    (:func:`klviz.vi.sweep.beta_sweep`): the mean over seeds as a line, each run as a dot, the
    selected :math:`\beta` as a large dot on its line :math:`D + R = -\mathrm{ELBO}`.  Alemi et al.
    (2018); Higgins et al. (2017).  Chapter ``ch-vi``.""",
)


def _kl_data(sweep, beta: float) -> dict:
    i = sweep.index(beta)
    kl = np.sort(sweep.kl[i], axis=-1)[:, ::-1]  # each run's dimensions, largest first
    return {"kl": kl, "threshold": sweep.threshold, "active": float(sweep.active[i].mean()),
            "top": float(sweep.kl.max()) * 1.1 + 1e-3}


def _kl_draw(ax, d: dict, values: dict) -> None:
    kl = d["kl"]
    k = np.arange(1, kl.shape[1] + 1)
    width = 0.8 / kl.shape[0]
    for s in range(kl.shape[0]):
        ax.bar(k + (s - (kl.shape[0] - 1) / 2) * width, kl[s], width, color=PALETTE[s % len(PALETTE)],
               label=f"seed {s + 1}")
    ax.axhline(d["threshold"], color="0.3", linestyle="--", linewidth=1.0, label=f"active: KL > {d['threshold']:g}")
    ax.set_xticks(k)
    ax.set_ylim(0.0, d["top"])
    ax.legend(loc="upper right")


kl_per_dimension = FigureSpec(
    "vi-kl-per-dimension", "β = {beta:g}: {active:g} active latent dimensions (mean over seeds)", _kl_data, _kl_draw,
    xlabel="latent dimension, sorted by its KL", ylabel="KL of the dimension (nats per image)",
    params=(Param("beta", "β", _betas),),
    inputs={"sweep": REQUIRED},
    example={"sweep": _example_sweep()},
    doc=r"""The test rate of each latent dimension, :math:`\mathbb E_x D_{\mathrm{KL}}(q(z_j \mid x) \| \mathcal N(0, 1))`,
    sorted within each run, one colour per seed; the dashed line is the active-unit threshold.
    A dimension under it is unused by the decoder (posterior collapse, Bowman et al. 2016).
    Chapter ``ch-vi``.""",
)


def _curves_data(sweep) -> dict:
    return {"curves": [(b, sweep.rate_curve[i].mean(0)) for i, b in enumerate(sweep.betas)]}


def _curves_draw(ax, d: dict, values: dict) -> None:
    for i, (b, c) in enumerate(d["curves"]):
        ax.plot(np.arange(1, len(c) + 1), c, color=PALETTE[i % len(PALETTE)], label=f"β = {b:g}")
    ax.set_yscale("symlog", linthresh=0.1)
    top = max(float(np.max(c)) for _b, c in d["curves"])
    ax.set_ylim(0.0, max(top, 0.1) * 30)  # a free decade above the curves for the legend
    ax.legend(loc="upper right", ncol=3)


rate_curves = FigureSpec(
    "vi-rate-curves", None, _curves_data, _curves_draw,
    xlabel="epoch", ylabel="test rate KL(q(z|x) ‖ p(z)) (nats per image)",
    inputs={"sweep": REQUIRED},
    example={"sweep": _example_sweep()},
    doc=r"""The test rate after each epoch, mean over seeds, one line per :math:`\beta` (symmetric log
    scale, linear below 0.1 nats).  Chapter ``ch-vi``.""",
)


def _grid_data(images, row_labels) -> dict:
    a = np.asarray(images, dtype=float)
    if a.ndim != 3 or a.shape[-1] != 64:
        raise ValueError(f"images must have shape (rows, columns, 64) of 8x8 pixels, got {a.shape}")
    labels = list(row_labels) if row_labels is not None else [f"row {r + 1}" for r in range(a.shape[0])]
    if len(labels) != a.shape[0]:
        raise ValueError(f"row_labels: expected {a.shape[0]} labels, got {len(labels)}")
    return {"images": a.reshape(a.shape[0], a.shape[1], 8, 8), "labels": labels}


def _grid_draw(ax, d: dict, values: dict) -> None:
    img = d["images"]
    rows, cols = img.shape[:2]
    r, c, i, j = np.meshgrid(np.arange(rows), np.arange(cols), np.arange(8), np.arange(8), indexing="ij")
    x, y = (c * 9 + j).ravel(), (-(r * 9 + i)).ravel()
    ax.set_xlim(-1, cols * 9)
    ax.set_ylim(-rows * 9, 1)
    ax.set_aspect("equal")
    fig = ax.figure
    width_in = ax.get_position().width * fig.get_size_inches()[0]
    side = width_in * 72 / (cols * 9 + 1)  # one pixel's side in points
    ax.scatter(x, y, c=img.ravel(), cmap="gray_r", vmin=0.0, vmax=1.0, marker="s", s=side**2, linewidths=0)
    ax.set_xticks([])
    ax.tick_params(length=0)
    ax.set_yticks([-(r * 9 + 3.5) for r in range(rows)], d["labels"])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


image_grid = FigureSpec(
    "vi-image-grid", None, _grid_data, _grid_draw,
    inputs={"images": REQUIRED, "row_labels": None},
    example={"images": np.linspace(0, 1, 2 * 3 * 64).reshape(2, 3, 64), "row_labels": ("a", "b")},
    figsize=(7.0, 3.0),
    doc=r"""Rows of 8x8 grey-level images (``images``: ``(rows, columns, 64)``, values in [0, 1], dark =
    ink), e.g. test digits, their reconstructions and samples from the prior.  Chapter ``ch-vi``.""",
)


def _variance_data(sigmas, mu: float, shift: float, n: int, seed: int) -> dict:
    f = lambda z: (z - shift) ** 2  # noqa: E731 - the chapter's example
    out = {"sigmas": np.asarray(sigmas, dtype=float), "reparam": [], "score": [], "baseline": []}
    for s in out["sigmas"]:
        out["reparam"].append(estimator_stats(reparam_gradients(f, mu, s, n, seed=seed))["var"][0])
        out["score"].append(estimator_stats(score_gradients(f, mu, s, n, seed=seed))["var"][0])
        # the baseline: the expectation itself, (mu - shift)^2 + sigma^2 (known here)
        out["baseline"].append(estimator_stats(score_gradients(f, mu, s, n, seed=seed,
                                                               baseline=(mu - shift) ** 2 + s**2))["var"][0])
    return out


def _variance_draw(ax, d: dict, values: dict) -> None:
    for k, (name, label) in enumerate((("score", "score function"), ("baseline", "score function, baseline"),
                                       ("reparam", "reparameterisation"))):
        ax.plot(d["sigmas"], d[name], "o-", color=PALETTE[k], label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.legend(loc="best")


estimator_variance = FigureSpec(
    "vi-estimator-variance", None, _variance_data, _variance_draw,
    xlabel="σ of q = N(μ, σ²)", ylabel="variance of one estimate of ∂E[f(z)]/∂μ",
    inputs={"sigmas": (0.1, 0.2, 0.5, 1.0, 2.0), "mu": 0.5, "shift": 1.0, "n": 20_000, "seed": 0},
    example={"n": 200},
    doc=r"""Per-sample variance of three unbiased estimators of :math:`\partial_\mu \mathbb E_{\mathcal
    N(\mu, \sigma^2)}[(z - c)^2]`: reparameterisation (Kingma & Welling 2014), the score function
    (Williams 1992), and the score function with the exact expectation as baseline.  Chapter ``ch-vi``.""",
)
