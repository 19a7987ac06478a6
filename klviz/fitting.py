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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

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
    if int(n) < 3:
        raise ValueError(f"n must be at least 3 grid points, got {n!r}")
    if not half_width > 0:
        raise ValueError(f"half_width must be > 0, got {half_width!r}")
    return np.linspace(-half_width, half_width, int(n))


def _check_grid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 3:
        raise ValueError(f"x must be a 1-D grid with at least 3 points, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or not np.all(np.diff(x) > 0):
        raise ValueError("x must be finite and strictly increasing (use default_grid())")
    return x


def gaussian_log_density(x, mu, sigma):
    r"""Log-density of :math:`\mathcal N(\mu, \sigma^2)`, numpy or torch (same kind out).

    .. math:: \log q(x) = -\frac{(x-\mu)^2}{2\sigma^2} - \log\sigma - \tfrac12\log 2\pi
    """
    if isinstance(sigma, (int, float)) and not sigma > 0:
        raise ValueError(f"sigma must be > 0 (a standard deviation), got {sigma!r}")
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
    if not np.isfinite(separation) or separation < 0:
        raise ValueError(f"separation must be a finite number >= 0, got {separation!r}")
    if not 0.0 < weight < 1.0:
        raise ValueError(
            f"weight must be strictly between 0 and 1 (the left component's share), got {weight!r}"
        )
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (a standard deviation), got {sigma!r}")
    left = math.log(weight) + gaussian_log_density(x, -separation / 2.0, float(sigma))
    right = math.log1p(-weight) + gaussian_log_density(x, separation / 2.0, float(sigma))
    return np.logaddexp(left, right)


def _normalised(log_density: np.ndarray) -> np.ndarray:
    from scipy.special import logsumexp

    return log_density - logsumexp(log_density)


def moment_match(x: np.ndarray, log_p: np.ndarray) -> tuple[float, float]:
    r"""Mean and standard deviation of the grid distribution :math:`p_i \propto e^{\log p(x_i)}`.

    .. math:: \mu = \sum_i p_i x_i, \qquad \sigma^2 = \sum_i p_i (x_i - \mu)^2 .

    For a Gaussian family the forward-KL fit matches exactly these two moments.
    """
    x = _check_grid(x)
    p = np.exp(_normalised(np.asarray(log_p, dtype=np.float64)))
    mu = float(np.sum(p * x))
    return mu, float(np.sqrt(np.sum(p * (x - mu) ** 2)))


def grid_kl(x: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> float:
    r""":math:`D_{\mathrm{KL}}(p\|q) = \sum_i p_i (\log p_i - \log q_i)` with both densities
    normalised over the grid ``x`` (log-densities in, nats out; swap the arguments for the
    reverse direction)."""
    _check_grid(x)
    return float(kl_divergence_from_logits(np.asarray(log_p, float), np.asarray(log_q, float)))


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

    if direction not in ("forward", "reverse"):
        raise ValueError(f'direction must be "forward" or "reverse", got {direction!r}')
    x = _check_grid(x)
    log_p = np.asarray(log_p, dtype=np.float64)
    if log_p.shape != x.shape:
        raise ValueError(f"log_p must have the grid's shape {x.shape}, got {log_p.shape}")
    if np.isnan(log_p).any() or np.isposinf(log_p).any():
        raise ValueError("log_p must be finite or -inf (a log-density), it contains NaN or +inf")
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
        if not s0 > 0:
            raise ValueError(f"inits: every sigma must be > 0, got {s0!r}")
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
    x = default_grid() if x is None else _check_grid(x)
    log_p = mixture_log_density(x, separation=separation, weight=weight, sigma=sigma)
    return {d: fit_gaussian(x, log_p, direction=d) for d in ("forward", "reverse")}
