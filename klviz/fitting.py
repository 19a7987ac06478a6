r"""Fitting one Gaussian to a bimodal mixture by forward and by reverse KL.

The asymmetry of the KL divergence (Chapter ``ch-kl``, KL divergence) shows best when a family
that is too simple must approximate a target: a single Gaussian :math:`q_\theta` fitted to a
two-component mixture :math:`p`.

- forward KL, :math:`\min_\theta D_{\mathrm{KL}}(p \| q_\theta)`: :math:`q` must put mass
  wherever :math:`p` has it ("mode covering"); for a Gaussian family the optimum matches the
  mean and variance of :math:`p` (moment matching, see :func:`moment_match`).
- reverse KL, :math:`\min_\theta D_{\mathrm{KL}}(q_\theta \| p)`: :math:`q` is punished for
  mass where :math:`p` has little, so it settles on one mode ("mode seeking") once the modes
  are far enough apart (Minka 2005).

Both are computed on a fixed grid: the densities are evaluated at the grid points and
normalised over the grid, so the two divergences are the discrete KL of
:func:`klviz.info.kl_divergence_from_logits` with log-densities as logits (log space
throughout, so the far tails give finite values).  The two parameters
:math:`(\mu, \log\sigma)` are optimised with torch's L-BFGS from a few starting points
and the best end point is kept, because the reverse-KL objective has one local minimum per
mode.

:func:`gkd_fits` fits the same Gaussian family by the generalized Jensen-Shannon divergence of
GKD (Agarwal et al. 2024, *On-Policy Distillation of Language Models*), which moves between the
two directions as :math:`\beta` goes from 0 to 1 (chapter ``ch-kl-practice``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Literal

import numpy as np

from klviz import _checks as checks
from klviz.info import kl_divergence_from_logits

__all__ = [
    "GaussianFit",
    "default_grid",
    "gaussian_log_density",
    "mixture_log_density",
    "moment_match",
    "grid_kl",
    "fit_gaussian",
    "fit_mixture",
    "GKDFit",
    "gkd_fits",
]

Direction = Literal["forward", "reverse"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class GaussianFit:
    r"""The result of :func:`fit_gaussian`: the fitted :math:`\mathcal N(\mu, \sigma^2)`.

    ``divergence`` is the minimised KL in nats on the grid: :math:`D_{\mathrm{KL}}(p\|q)`
    for ``direction="forward"`` and :math:`D_{\mathrm{KL}}(q\|p)` for ``"reverse"``.
    """

    mu: float
    sigma: float
    divergence: float
    direction: str


def default_grid(n: int = 1601, half_width: float = 20.0) -> np.ndarray:
    """An evenly spaced grid on ``[-half_width, half_width]`` (wide enough that a fit with modes at +-5 is not truncated)."""
    n = checks.integer(n, "n", low=3, hint="the number of grid points")
    half_width = checks.positive(half_width, "half_width")
    return np.linspace(-half_width, half_width, n)


def _grid(x: np.ndarray) -> np.ndarray:
    return checks.vector(x, "x", min_size=3, increasing=True, hint="use default_grid()")


def gaussian_log_density(x, mu, sigma):
    r"""Log-density of :math:`\mathcal N(\mu, \sigma^2)`, numpy or torch (same kind out).

    .. math:: \log q(x) = -\frac{(x-\mu)^2}{2\sigma^2} - \log\sigma - \tfrac12\log 2\pi
    """
    if isinstance(sigma, (int, float)):
        checks.positive(sigma, "sigma", hint="a standard deviation")
    lib_log = np.log if isinstance(sigma, (int, float, np.floating, np.ndarray)) else (lambda s: s.log())
    return -0.5 * ((x - mu) / sigma) ** 2 - lib_log(sigma) - _LOG_SQRT_2PI


def mixture_log_density(
    x: np.ndarray, *, separation: float = 4.0, weight: float = 0.5, sigma: float = 1.0
) -> np.ndarray:
    r"""Log-density of the symmetric two-component mixture used in chapter ``ch-kl``.

    .. math::
        p(x) = w\,\mathcal N(x; -d/2, \sigma^2) + (1-w)\,\mathcal N(x; d/2, \sigma^2),

    with :math:`d` = ``separation`` and :math:`w` = ``weight`` (the weight of the left
    component).  Computed with ``logaddexp`` so the tails stay finite.
    """
    x = np.asarray(x, dtype=np.float64)
    separation = checks.nonnegative(separation, "separation", hint="the distance between the two modes")
    weight = checks.fraction(weight, "weight", open_low=True, open_high=True,
                             hint="the left component's share, strictly between 0 and 1")
    sigma = checks.positive(sigma, "sigma", hint="a standard deviation")
    left = math.log(weight) + gaussian_log_density(x, -separation / 2.0, sigma)
    right = math.log1p(-weight) + gaussian_log_density(x, separation / 2.0, sigma)
    return np.logaddexp(left, right)


def _normalised(log_density: np.ndarray) -> np.ndarray:
    from scipy.special import logsumexp

    return log_density - logsumexp(log_density)


def _log_density(log_p: np.ndarray, x: np.ndarray, name: str) -> np.ndarray:
    """``log_p`` as float64 on the grid ``x``: its shape, finite or -inf, not all -inf."""
    log_p = np.asarray(log_p, dtype=np.float64)
    if log_p.shape != x.shape:
        raise ValueError(f"{name} must have the grid's shape {x.shape}, got {log_p.shape}")
    if np.isnan(log_p).any() or np.isposinf(log_p).any():
        raise ValueError(f"{name} must be finite or -inf (a log-density), it contains NaN or +inf")
    if not np.isfinite(log_p).any():
        raise ValueError(f"{name} is -inf everywhere: the density has no mass on the grid")
    return log_p


def moment_match(x: np.ndarray, log_p: np.ndarray) -> tuple[float, float]:
    r"""Mean and standard deviation of the grid distribution :math:`p_i \propto e^{\log p(x_i)}`.

    .. math:: \mu = \sum_i p_i x_i, \qquad \sigma^2 = \sum_i p_i (x_i - \mu)^2 .

    For a Gaussian family the forward-KL fit matches exactly these two moments.
    """
    x = _grid(x)
    p = np.exp(_normalised(_log_density(log_p, x, "log_p")))
    mu = float(np.sum(p * x))
    return mu, float(np.sqrt(np.sum(p * (x - mu) ** 2)))


def grid_kl(x: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> float:
    r""":math:`D_{\mathrm{KL}}(p\|q) = \sum_i p_i (\log p_i - \log q_i)` with both densities
    normalised over the grid ``x`` (log-densities in, nats out; swap the arguments for the
    reverse direction)."""
    x = _grid(x)
    log_p, log_q = _log_density(log_p, x, "log_p"), _log_density(log_q, x, "log_q")
    return float(kl_divergence_from_logits(log_p, log_q))


def fit_gaussian(
    x: np.ndarray,
    log_p: np.ndarray,
    *,
    direction: Direction = "forward",
    inits: list[tuple[float, float]] | None = None,
    max_iter: int = 200,
) -> GaussianFit:
    r"""Fit :math:`q = \mathcal N(\mu, \sigma^2)` to the grid distribution ``log_p``.

    ``direction="forward"`` minimises :math:`D_{\mathrm{KL}}(p\|q)` (mode covering);
    ``"reverse"`` minimises :math:`D_{\mathrm{KL}}(q\|p)` (mode seeking).  Both are the
    discrete KL over the grid, computed in log space by
    :func:`klviz.info.kl_divergence_from_logits`, optimised over :math:`(\mu, \log\sigma)`
    with L-BFGS from each ``(mu, sigma)`` in ``inits`` (default: each quartile of ``p`` and
    its mean, narrow or as wide as ``p``); the lowest end point wins.
    Chapter ``ch-kl`` (KL divergence).
    """
    import torch

    checks.choice(direction, "direction", ("forward", "reverse"))
    max_iter = checks.positive_int(max_iter, "max_iter")
    x = _grid(x)
    log_p = _log_density(log_p, x, "log_p")
    if inits is None:
        mean, sd = moment_match(x, log_p)
        p = np.exp(_normalised(log_p))
        cdf = np.cumsum(p)
        quartiles = [float(x[np.searchsorted(cdf, c)]) for c in (0.25, 0.75)]
        dx = float(x[1] - x[0])
        narrow = max(sd / 4.0, 4 * dx)
        # forward KL is convex in the natural parameters (one start suffices); reverse KL
        # has a local minimum per mode, so start once near each mode and once broad
        inits = [(quartiles[0], narrow)]
        if direction == "reverse":
            inits += [(quartiles[1], narrow), (mean, sd)]
    xt = torch.as_tensor(x, dtype=torch.float64)
    lpt = torch.as_tensor(log_p, dtype=torch.float64)

    def objective(mu, log_sigma):
        lq = gaussian_log_density(xt, mu, log_sigma.exp())
        if direction == "forward":
            return kl_divergence_from_logits(lpt, lq)
        return kl_divergence_from_logits(lq, lpt)

    best: GaussianFit | None = None
    for mu0, s0 in inits:
        s0 = checks.positive(s0, "inits: every sigma", hint="a standard deviation")
        mu = torch.tensor(float(mu0), dtype=torch.float64, requires_grad=True)
        log_sigma = torch.tensor(math.log(s0), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS(
            [mu, log_sigma], max_iter=max_iter, line_search_fn="strong_wolfe",
            tolerance_grad=1e-10, tolerance_change=1e-14,
        )

        def closure():
            opt.zero_grad()
            loss = objective(mu, log_sigma)
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            value = float(objective(mu, log_sigma))
        fit = GaussianFit(mu.item(), math.exp(log_sigma.item()), value, direction)
        if math.isfinite(value) and (best is None or value < best.divergence):
            best = fit
    if best is None:
        raise RuntimeError("every start point diverged; pass inits closer to the mass of p")
    return best


def fit_mixture(
    separation: float = 4.0,
    weight: float = 0.5,
    *,
    sigma: float = 1.0,
    x: np.ndarray | None = None,
) -> dict[str, GaussianFit]:
    r"""Forward- and reverse-KL Gaussian fits to the mixture of :func:`mixture_log_density`.

    Returns ``{"forward": GaussianFit, "reverse": GaussianFit}``.  Chapter ``ch-kl`` (KL divergence).
    """
    x = default_grid() if x is None else _grid(x)
    log_p = mixture_log_density(x, separation=separation, weight=weight, sigma=sigma)
    return {d: fit_gaussian(x, log_p, direction=d) for d in ("forward", "reverse")}


# --------------------------------------------------------------------------- GKD
@dataclass(frozen=True)
class GKDFit:
    r"""A Gaussian student :math:`\mathcal N(\mu, \sigma^2)` fitted by :func:`gkd_fits` at one :math:`\beta`."""

    beta: float
    mu: float
    sigma: float
    divergence: float


def _gkd_objective(log_p, lq, beta: float):
    """The generalized JSD of GKD on one grid row: teacher log-probs ``log_p``, student ``lq``."""
    from klviz import losses  # noqa: PLC0415 - losses is heavy and only GKD needs it

    # js_loss takes logits; log-densities are logits of the grid distributions
    return losses.js_loss(lq[None, :], log_p[None, :], beta=beta)


def gkd_fits(
    betas: Sequence[float] = (0.0, 0.1, 0.5, 0.9, 1.0),
    *,
    separation: float = 5.0,
    weight: float = 0.7,
    x: np.ndarray | None = None,
    steps: int = 150,
) -> tuple[np.ndarray, np.ndarray, list[GKDFit]]:
    r"""Fit one Gaussian student to a bimodal teacher by the generalized JSD for each :math:`\beta`.

    .. math:: D_{\mathrm{JSD}(\beta)}(p\|q) = \beta\, D_{\mathrm{KL}}(p\|m)
              + (1-\beta)\, D_{\mathrm{KL}}(q\|m), \qquad m = \beta p + (1-\beta) q

    (Agarwal et al. 2024, GKD).  The teacher is :func:`mixture_log_density` on a grid (weight
    ``weight`` on the left mode).  At :math:`\beta = 0` and :math:`1` the fit minimises the
    forward :math:`D_{\mathrm{KL}}(p\|q)` and the reverse :math:`D_{\mathrm{KL}}(q\|p)`
    (:func:`fit_gaussian`); in between, :func:`klviz.losses.js_loss` with that :math:`\beta`,
    optimised over :math:`(\mu, \log\sigma)` with L-BFGS from the forward fit and from each
    mode, keeping the best.  Returns ``(x, log_p, fits)``.  Chapter ``ch-kl-practice`` (GKD).
    """
    import torch  # noqa: PLC0415 - torch stays optional for the numpy-only functions

    steps = checks.positive_int(steps, "steps", hint="L-BFGS iterations per start, e.g. 150")
    betas = [checks.fraction(b, "betas: every beta", hint="0 = forward KL, 1 = reverse KL") for b in betas]
    x = default_grid(801, 12.0) if x is None else _grid(x)
    log_p = mixture_log_density(x, separation=separation, weight=weight)
    xt = torch.as_tensor(x, dtype=torch.float64)
    lpt = torch.as_tensor(log_p, dtype=torch.float64)
    fwd = fit_gaussian(x, log_p, direction="forward")
    fits = []
    for beta in betas:
        if beta in (0.0, 1.0):
            f = fwd if beta == 0.0 else fit_gaussian(x, log_p, direction="reverse")
            fits.append(GKDFit(beta, f.mu, f.sigma, f.divergence))
            continue
        best = None
        for mu0, s0 in ((fwd.mu, fwd.sigma), (-separation / 2, 1.0), (separation / 2, 1.0)):
            mu = torch.tensor(float(mu0), dtype=torch.float64, requires_grad=True)
            ls = torch.tensor(math.log(s0), dtype=torch.float64, requires_grad=True)
            opt = torch.optim.LBFGS([mu, ls], max_iter=steps, line_search_fn="strong_wolfe")

            def closure(mu=mu, ls=ls, opt=opt, beta=beta):
                opt.zero_grad()
                loss = _gkd_objective(lpt, gaussian_log_density(xt, mu, ls.exp()), beta)
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                val = float(_gkd_objective(lpt, gaussian_log_density(xt, mu, ls.exp()), beta))
            if math.isfinite(val) and (best is None or val < best.divergence):
                best = GKDFit(beta, mu.item(), math.exp(ls.item()), val)
        fits.append(best)
    return x, log_p, fits
