r"""KL divergences between Gaussians, in closed form.

:func:`gaussian_kl` (univariate, elementwise; summed over an axis it is the KL between
diagonal Gaussians) and :func:`vae_kl` (a diagonal encoder against the standard normal
prior) and :func:`mvn_kl` (full-covariance multivariate Gaussians, via Cholesky factors).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from klviz import _checks as checks
from klviz._backend import common
from klviz.info._terms import log, reduce_sum
from klviz.info._validate import broadcast_shape, no_nan, positive_values

__all__ = ["gaussian_kl", "mvn_kl", "vae_kl"]

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


def _cholesky(cov: Any, name: str, torch_: bool) -> Any:
    """The lower Cholesky factor of each ``(d, d)`` matrix of ``cov``, or a ValueError naming it."""
    if torch_:
        import torch

        c = cov.detach()  # a check, not part of the graph
        asym = (c - c.transpose(-1, -2)).abs().amax() if c.numel() else 0.0
        scale = c.abs().amax() if c.numel() else 1.0
        if float(asym) > 1e-8 * max(float(scale), 1e-300):
            raise ValueError(f"{name} is not symmetric (largest |C - C^T| = {float(asym):.3g}); "
                             f"pass a symmetric covariance, e.g. (C + C^T) / 2")
        factor, info = torch.linalg.cholesky_ex(cov)
        if bool((info != 0).any()):
            raise ValueError(f"{name} is not positive definite (Cholesky failed); pass a covariance "
                             f"with positive eigenvalues, e.g. add a small multiple of the identity")
        return factor
    asym = float(np.abs(cov - np.swapaxes(cov, -1, -2)).max()) if cov.size else 0.0
    scale = float(np.abs(cov).max()) if cov.size else 1.0
    if asym > 1e-8 * max(scale, 1e-300):
        raise ValueError(f"{name} is not symmetric (largest |C - C^T| = {asym:.3g}); "
                         f"pass a symmetric covariance, e.g. (C + C^T) / 2")
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} is not positive definite (Cholesky failed); pass a covariance "
                         f"with positive eigenvalues, e.g. add a small multiple of the identity") from None


def _finite(x: Any, name: str, torch_: bool) -> None:
    ok = bool(x.isfinite().all()) if torch_ else bool(np.isfinite(x).all())
    if not ok:
        raise ValueError(f"{name} holds NaN or infinite entries; pass finite numbers")


def mvn_kl(mu1: ArrayLike, cov1: ArrayLike, mu2: ArrayLike, cov2: ArrayLike) -> Any:
    r"""KL divergence between multivariate normals with full covariances.

    .. math::
        D_{\mathrm{KL}}\big(\mathcal N(\boldsymbol\mu_1, \Sigma_1) \,\|\,
        \mathcal N(\boldsymbol\mu_2, \Sigma_2)\big)
        = \tfrac12\Big[\operatorname{tr}(\Sigma_2^{-1}\Sigma_1)
        + (\boldsymbol\mu_2 - \boldsymbol\mu_1)^\top \Sigma_2^{-1} (\boldsymbol\mu_2 - \boldsymbol\mu_1)
        - d + \ln\frac{\det\Sigma_2}{\det\Sigma_1}\Big].

    Computed with the Cholesky factors :math:`\Sigma_i = L_i L_i^\top` (no inverse, no
    determinant): the trace is :math:`\|L_2^{-1} L_1\|_F^2`, the quadratic term
    :math:`\|L_2^{-1}(\boldsymbol\mu_2 - \boldsymbol\mu_1)\|^2` and
    :math:`\ln\det\Sigma_i = 2\sum_j \ln (L_i)_{jj}`, which stay accurate for
    ill-conditioned covariances.  Means have shape ``(..., d)``, covariances ``(..., d, d)``;
    leading axes broadcast and the result has the broadcast leading shape.  A covariance that is
    not symmetric positive definite raises a ValueError naming it.  Numpy in, numpy out; torch
    in, torch out (differentiable).  Kullback & Leibler (1951); the VAE of Kingma & Welling
    (2014).  Chapter ``ch-vi`` (variational inference and the VAE).
    """
    names = ("mu1", "cov1", "mu2", "cov2")
    (m1, c1, m2, c2), torch_ = common(mu1, cov1, mu2, cov2, names=names)
    for x, name, nd in zip((m1, c1, m2, c2), names, (1, 2, 1, 2)):
        if x.ndim < nd:
            raise ValueError(f"{name} must have at least {nd} axes ({'(..., d)' if nd == 1 else '(..., d, d)'}), "
                             f"got shape {tuple(x.shape)}")
        _finite(x, name, torch_)
    d = m1.shape[-1]
    for x, name in ((c1, "cov1"), (c2, "cov2")):
        if tuple(x.shape[-2:]) != (d, d):
            raise ValueError(f"{name} must have shape (..., {d}, {d}) to match mu1 (..., {d}), got {tuple(x.shape)}")
    if m2.shape[-1] != d:
        raise ValueError(f"mu2 has dimension {m2.shape[-1]} but mu1 has {d}; pass means of the same dimension")
    if d < 1:
        raise ValueError("mu1 has dimension 0; pass means of shape (..., d) with d >= 1")
    batch = broadcast_shape((m1[..., 0], c1[..., 0, 0], m2[..., 0], c2[..., 0, 0]), names)
    l1, l2 = _cholesky(c1, "cov1", torch_), _cholesky(c2, "cov2", torch_)
    if torch_:
        import torch

        shape = (*batch, d, d)
        l1, l2 = l1.expand(shape), l2.expand(shape)
        diff = (m2 - m1).expand((*batch, d)).unsqueeze(-1)
        a = torch.linalg.solve_triangular(l2, l1, upper=False)
        b = torch.linalg.solve_triangular(l2, diff, upper=False)
        logdet = 2.0 * (l2.diagonal(dim1=-2, dim2=-1).log() - l1.diagonal(dim1=-2, dim2=-1).log()).sum(-1)
        trace, quad = (a * a).sum((-2, -1)), (b * b).sum((-2, -1))
    else:
        shape = (*batch, d, d)
        l1, l2 = np.broadcast_to(l1, shape), np.broadcast_to(l2, shape)
        diff = np.broadcast_to(m2 - m1, (*batch, d))[..., None]
        # a general solve on a triangular matrix: numpy has no batched triangular solve
        a = np.linalg.solve(l2, l1)
        b = np.linalg.solve(l2, diff)
        logdet = 2.0 * (np.log(np.diagonal(l2, axis1=-2, axis2=-1))
                        - np.log(np.diagonal(l1, axis1=-2, axis2=-1))).sum(-1)
        trace, quad = (a * a).sum((-2, -1)), (b * b).sum((-2, -1))
    return 0.5 * (trace + quad - d + logdet)
