r"""Two Monte Carlo estimators of :math:`\nabla_\theta\, \mathbb E_{z \sim q_\theta}[f(z)]` for a
Gaussian :math:`q_\theta = \mathcal N(\mu, \sigma^2)`, elementwise over independent coordinates.

- **reparameterisation** (pathwise; Kingma & Welling 2014, Rezende et al. 2014): write
  :math:`z = \mu + \sigma\varepsilon`, :math:`\varepsilon \sim \mathcal N(0, 1)`, and differentiate
  through :math:`f`: :math:`\hat g_\mu = f'(z)`, :math:`\hat g_\sigma = f'(z)\,\varepsilon`.
- **score function** (REINFORCE; Williams 1992): :math:`\hat g_\theta = f(z)\,\nabla_\theta \log
  q_\theta(z)`, with :math:`\partial_\mu \log q = (z - \mu)/\sigma^2` and
  :math:`\partial_\sigma \log q = ((z - \mu)^2 - \sigma^2)/\sigma^3`; needs no derivative of
  :math:`f`, only its values.

Both are unbiased; the functions return one estimate per sample so their variances can be
measured (:func:`estimator_stats`).  Chapter ``ch-vi``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from klviz import _checks as checks

__all__ = ["estimator_stats", "reparam_gradients", "score_gradients"]

Fn = Callable[[torch.Tensor], torch.Tensor]


def _draw(mu: float, sigma: float, n: int, seed: int) -> tuple[float, float, torch.Tensor]:
    mu = checks.finite(mu, "mu")
    sigma = checks.positive(sigma, "sigma", hint="the standard deviation of q")
    n = checks.positive_int(n, "n")
    eps = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(int(seed)))
    return mu, sigma, eps


def reparam_gradients(f: Fn, mu: float, sigma: float, n: int, *, seed: int = 0) -> torch.Tensor:
    r"""``n`` reparameterisation estimates of :math:`(\partial_\mu, \partial_\sigma)\,\mathbb E[f(z)]`,
    shape ``(n, 2)``: :math:`f'(z_i)\,(1, \varepsilon_i)` with :math:`z_i = \mu + \sigma\varepsilon_i`
    (autograd through ``f``, which maps a float64 tensor elementwise).  Kingma & Welling (2014).
    Chapter ``ch-vi``."""
    mu, sigma, eps = _draw(mu, sigma, n, seed)
    z = (mu + sigma * eps).requires_grad_(True)
    (dz,) = torch.autograd.grad(f(z).sum(), z)
    return torch.stack([dz, dz * eps], dim=1).detach()


def score_gradients(f: Fn, mu: float, sigma: float, n: int, *, seed: int = 0, baseline: float = 0.0) -> torch.Tensor:
    r"""``n`` score-function estimates :math:`(f(z_i) - c)\,\nabla_{(\mu,\sigma)} \log q(z_i)`, shape
    ``(n, 2)``, with the constant baseline :math:`c` (``baseline``; 0: plain REINFORCE; a constant
    keeps it unbiased because :math:`\mathbb E[\nabla \log q] = 0`).  Williams (1992).
    Chapter ``ch-vi``."""
    mu, sigma, eps = _draw(mu, sigma, n, seed)
    c = checks.finite(baseline, "baseline")
    with torch.no_grad():
        z = mu + sigma * eps
        fz = f(z) - c
    # the score of N(mu, sigma^2), in eps = (z - mu) / sigma
    return torch.stack([fz * eps / sigma, fz * (eps * eps - 1.0) / sigma], dim=1)


def estimator_stats(grads: torch.Tensor) -> dict[str, list[float]]:
    """Mean, variance (per sample, ``ddof=1``) and standard error of the mean of each column of
    ``grads`` (``(n, p)``, from :func:`reparam_gradients` or :func:`score_gradients`)."""
    checks.tensor(grads, "grads", floating=True, dims=(2,))
    n = grads.shape[0]
    if n < 2:
        raise ValueError(f"grads has {n} row; pass at least 2 samples to measure a variance")
    var = grads.var(0, unbiased=True)
    return {"mean": grads.mean(0).tolist(), "var": var.tolist(), "se": (var / n).sqrt().tolist(), "n": [float(n)]}


