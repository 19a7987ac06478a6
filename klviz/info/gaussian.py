r"""KL divergences between Gaussians, in closed form.

:func:`gaussian_kl` (univariate, elementwise; summed over an axis it is the KL between
diagonal Gaussians) and :func:`vae_kl` (a diagonal encoder against the standard normal
prior).  The KL between full-covariance multivariate Gaussians belongs here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from klviz import _checks as checks
from klviz._backend import common
from klviz.info._terms import log, reduce_sum
from klviz.info._validate import broadcast_shape, no_nan, positive_values

__all__ = ["gaussian_kl", "vae_kl"]

ArrayLike = Any  # numpy array, torch tensor, list or scalar


def _sum_over(terms: Any, shape: tuple[int, ...], axis: Any, of: str, torch_: bool) -> Any:
    """Sum the elementwise ``terms`` (broadcast to ``shape`` first) over ``axis``."""
    ax = checks.axis(axis, len(shape), of=of)
    if tuple(terms.shape) != shape:
        terms = terms.expand(shape) if torch_ else np.broadcast_to(terms, shape)
    return reduce_sum(terms, ax, torch_)


def gaussian_kl(
    mu1: ArrayLike,
    sigma1: ArrayLike,
    mu2: ArrayLike = 0.0,
    sigma2: ArrayLike = 1.0,
    *,
    axis: int | None = None,
) -> Any:
    r"""KL divergence between univariate Gaussians, elementwise (or summed over ``axis``).

    .. math::
        D_{\mathrm{KL}}\big(\mathcal N(\mu_1, \sigma_1^2) \,\|\, \mathcal N(\mu_2, \sigma_2^2)\big)
        = \log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2} - \frac12 .

    ``sigma1``/``sigma2`` are standard deviations and must be > 0.  With ``axis`` given,
    the elementwise values are summed over that axis: the KL between diagonal Gaussians
    (independent coordinates).
    Chapter ``ch-kl`` (KL divergence; the VAE in chapter ``ch-kl-practice``).
    """
    names = ("mu1", "sigma1", "mu2", "sigma2")
    (m1, s1, m2, s2), torch_ = common(mu1, sigma1, mu2, sigma2, names=names)
    no_nan(m1, "mu1", torch_)
    no_nan(m2, "mu2", torch_)
    positive_values(s1, "sigma1", torch_)
    positive_values(s2, "sigma2", torch_)
    shape = broadcast_shape((m1, s1, m2, s2), names)
    ratio = s1 / s2
    # -log(ratio) + (ratio^2 - 1)/2 is the same as the textbook form, written in the one ratio
    # so that sigma1 = sigma2 gives exactly the squared-mean term.
    kl = -log(ratio, torch_) + 0.5 * (ratio * ratio - 1.0) + 0.5 * ((m1 - m2) / s2) ** 2
    if axis is None:
        return kl
    return _sum_over(kl, shape, axis, "mu1 (broadcast)", torch_)


def vae_kl(mu: ArrayLike, logvar: ArrayLike, *, axis: int | None = -1) -> Any:
    r"""KL of a diagonal Gaussian encoder from the standard normal prior (the VAE term).

    .. math::
        D_{\mathrm{KL}}\big(\mathcal N(\boldsymbol\mu, \operatorname{diag} e^{\boldsymbol\ell})
        \,\|\, \mathcal N(\mathbf 0, I)\big)
        = \tfrac12 \sum_j \big(\mu_j^2 + e^{\ell_j} - 1 - \ell_j\big),
        \qquad \ell = \log \sigma^2 .

    Summed over ``axis`` (the latent dimension, last by default); ``axis=None`` returns the
    per-coordinate terms.  ``expm1`` keeps :math:`e^{\ell} - 1 - \ell` accurate near
    :math:`\ell = 0`.  Equals :func:`gaussian_kl` ``(mu, exp(logvar / 2), axis=axis)``.
    Chapter ``ch-kl-practice``, KL in practice, Gaussians and the VAE
    (Kingma & Welling 2014, Appendix B).
    """
    (m, lv), torch_ = common(mu, logvar, names=("mu", "logvar"))
    shape = broadcast_shape((m, lv), ("mu", "logvar"))
    no_nan(m, "mu", torch_)
    no_nan(lv, "logvar", torch_)
    em1 = lv.expm1() if torch_ else np.expm1(lv)
    terms = 0.5 * (m * m + em1 - lv)
    if axis is None:
        return terms
    return _sum_over(terms, shape, axis, "mu", torch_)
