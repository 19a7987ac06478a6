r"""The linear-Gaussian latent model, where variational inference can be checked exactly.

.. math::
    z \sim \mathcal N(\mathbf 0, I_k), \qquad x \mid z \sim \mathcal N(Wz + b, \sigma^2 I_d).

The posterior is Gaussian, :math:`p(z \mid x) = \mathcal N(m_x, S_x)` with
:math:`S_x = (I + W^\top W / \sigma^2)^{-1}` and :math:`m_x = S_x W^\top (x - b) / \sigma^2`, and
the evidence is :math:`p(x) = \mathcal N(b, W W^\top + \sigma^2 I)` (probabilistic PCA, Tipping &
Bishop 1999).  For every Gaussian :math:`q = \mathcal N(m, S)` the ELBO has a closed form, so the
identity :math:`\log p(x) = \mathrm{ELBO}(q) + D_{\mathrm{KL}}(q \| p(z \mid x))` is checked to
rounding.  Chapter ``ch-vi``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from klviz.info import mvn_kl

__all__ = ["LinearGaussian"]


def _matrix(x, name: str, ndim: int | tuple[int, ...]) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=torch.float64) if not torch.is_tensor(x) else x.to(torch.float64)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if t.ndim not in allowed:
        raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} axes, got shape {tuple(t.shape)}")
    if not bool(t.isfinite().all()):
        raise ValueError(f"{name} holds NaN or infinite entries; pass finite numbers")
    return t


@dataclass(frozen=True)
class LinearGaussian:
    """The model :math:`x = Wz + b + \\sigma\\varepsilon` with ``W`` of shape ``(d, k)``, ``b`` of
    shape ``(d,)`` and noise scale ``sigma > 0``; computations in float64.  Chapter ``ch-vi``."""

    W: torch.Tensor
    b: torch.Tensor
    sigma: float

    def __post_init__(self) -> None:
        w = _matrix(self.W, "W", 2)
        b = _matrix(self.b, "b", 1)
        if b.shape[0] != w.shape[0]:
            raise ValueError(f"b has {b.shape[0]} entries but W has {w.shape[0]} rows; give b of shape (d,)")
        s = float(self.sigma)
        if not (math.isfinite(s) and s > 0):
            raise ValueError(f"sigma={self.sigma} must be a finite number > 0 (the noise standard deviation)")
        object.__setattr__(self, "W", w)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "sigma", s)

    @property
    def k(self) -> int:
        """Latent dimension."""
        return self.W.shape[1]

    def _x(self, x) -> torch.Tensor:
        x = _matrix(x, "x", (1, 2))
        if x.shape[-1] != self.W.shape[0]:
            raise ValueError(f"x has {x.shape[-1]} coordinates but the model has d = {self.W.shape[0]}")
        return x

    def posterior(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean :math:`m_x` (shape ``(..., k)``) and covariance :math:`S_x` (``(k, k)``) of :math:`p(z \mid x)`."""
        x = self._x(x)
        eye = torch.eye(self.k, dtype=torch.float64)
        cov = torch.linalg.inv(eye + self.W.T @ self.W / self.sigma**2)
        mean = (x - self.b) @ self.W @ cov / self.sigma**2  # cov is symmetric
        return mean, 0.5 * (cov + cov.T)

    def log_evidence(self, x) -> torch.Tensor:
        r""":math:`\log p(x) = \log \mathcal N(x; b, WW^\top + \sigma^2 I)` (torch.distributions)."""
        x = self._x(x)
        cov = self.W @ self.W.T + self.sigma**2 * torch.eye(self.W.shape[0], dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x)

    def elbo(self, x, mean, cov) -> torch.Tensor:
        r"""The ELBO of :math:`q = \mathcal N(m, S)` in closed form:

        .. math::
            \mathbb E_q[\log p(x \mid z)] - D_{\mathrm{KL}}(q \| \mathcal N(\mathbf 0, I)),\quad
            \mathbb E_q[\log p(x \mid z)] = -\tfrac d2 \log(2\pi\sigma^2)
            - \frac{\|x - b - Wm\|^2 + \operatorname{tr}(W S W^\top)}{2\sigma^2}.
        """
        x = self._x(x)
        m, s = _matrix(mean, "mean", (1, 2)), _matrix(cov, "cov", 2)
        if m.shape[-1] != self.k or s.shape != (self.k, self.k):
            raise ValueError(f"mean must have shape (..., {self.k}) and cov ({self.k}, {self.k}), got "
                             f"{tuple(m.shape)} and {tuple(s.shape)}")
        d = self.W.shape[0]
        resid = x - self.b - m @ self.W.T
        expected = (-0.5 * d * math.log(2 * math.pi * self.sigma**2)
                    - ((resid**2).sum(-1) + torch.trace(self.W @ s @ self.W.T)) / (2 * self.sigma**2))
        eye = torch.eye(self.k, dtype=torch.float64)
        return expected - mvn_kl(m, s, torch.zeros(self.k, dtype=torch.float64), eye)

    def posterior_kl(self, x, mean, cov) -> torch.Tensor:
        r""":math:`D_{\mathrm{KL}}(q \| p(z \mid x))` for :math:`q = \mathcal N(m, S)` (:func:`klviz.info.mvn_kl`)."""
        m_post, s_post = self.posterior(x)
        return mvn_kl(_matrix(mean, "mean", (1, 2)), _matrix(cov, "cov", 2), m_post, s_post)
