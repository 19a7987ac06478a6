r"""Gaussian KL divergences derived with sympy: the univariate closed form by integration,
the VAE term as its sum over a diagonal encoder, and the multivariate KL (full covariances)
coordinate by coordinate for d = 2."""

from __future__ import annotations

from typing import Sequence

import sympy as sp

from klviz.symbolic._exact import size

__all__ = [
    "gaussian_symbols",
    "gaussian_kl_expr",
    "gaussian_kl_closed_form",
    "vae_kl_expr",
    "vae_kl_closed_form",
    "mvn_symbols",
    "mvn_kl_expr",
    "mvn_kl_closed_form",
]


def gaussian_symbols() -> tuple[sp.Symbol, sp.Symbol, sp.Symbol, sp.Symbol]:
    """The symbols ``(mu1, sigma1, mu2, sigma2)`` used by the Gaussian expressions."""
    mu1, mu2 = sp.symbols("mu_1 mu_2", real=True)
    s1, s2 = sp.symbols("sigma_1 sigma_2", positive=True)
    return mu1, s1, mu2, s2


def gaussian_kl_expr() -> sp.Expr:
    r"""Derive :math:`D_{\mathrm{KL}}(\mathcal N(\mu_1,\sigma_1^2)\|\mathcal N(\mu_2,\sigma_2^2))`
    by integrating :math:`\int p(x) \log\frac{p(x)}{q(x)}\,dx` over the real line with sympy.

    The log-ratio is a quadratic in :math:`x`, so the integral reduces to Gaussian moments;
    sympy does it exactly.  Returns the simplified result in the symbols of
    :func:`gaussian_symbols`.  Compare with :func:`gaussian_kl_closed_form`.
    Chapter ``ch-kl`` (KL divergence; the VAE case in chapter ``ch-kl-practice``).
    """
    mu1, s1, mu2, s2 = gaussian_symbols()
    x = sp.Symbol("x", real=True)

    def log_density(mu: sp.Expr, s: sp.Expr) -> sp.Expr:
        return -sp.log(s) - sp.log(2 * sp.pi) / 2 - (x - mu) ** 2 / (2 * s**2)

    p = sp.exp(log_density(mu1, s1))
    log_ratio = sp.expand(log_density(mu1, s1) - log_density(mu2, s2))
    # integrate term by term: each is p(x) * x^k * const, a Gaussian moment
    poly = sp.Poly(log_ratio, x)
    total = sp.Integer(0)
    for (k,), coeff in poly.terms():
        moment = sp.integrate(p * x**k, (x, -sp.oo, sp.oo), conds="none")
        total += coeff * sp.simplify(moment)
    # expanded logs read like the textbook: log(sigma_2) - log(sigma_1) + ...
    return sp.expand(sp.expand_log(sp.simplify(total), force=True))


def gaussian_kl_closed_form() -> sp.Expr:
    r"""The textbook formula
    :math:`\log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1-\mu_2)^2}{2\sigma_2^2} - \frac12`
    in the symbols of :func:`gaussian_symbols`.  Chapter ``ch-kl`` (KL divergence)."""
    mu1, s1, mu2, s2 = gaussian_symbols()
    return sp.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - sp.Rational(1, 2)


def vae_kl_expr(
    d: int, *, mu: Sequence[sp.Symbol] | None = None, logvar: Sequence[sp.Symbol] | None = None
) -> sp.Expr:
    r"""KL of :math:`\mathcal N(\boldsymbol\mu, \operatorname{diag} e^{\ell})` from
    :math:`\mathcal N(\mathbf 0, I)` in ``d`` dimensions, derived by summing the univariate
    closed form with :math:`\sigma_{1,j} = e^{\ell_j/2}`, :math:`\mu_2 = 0`, :math:`\sigma_2 = 1`:

    .. math:: \tfrac12 \sum_{j=1}^d \big(\mu_j^2 + e^{\ell_j} - 1 - \ell_j\big).

    Symbols default to ``mu_1..mu_d`` and ``l_1..l_d`` (real).  Chapter ``ch-kl-practice`` (KL in practice).
    """
    d = size(d, "d")
    mu = list(mu) if mu is not None else list(sp.symbols(f"mu_1:{d + 1}", real=True))
    logvar = list(logvar) if logvar is not None else list(sp.symbols(f"l_1:{d + 1}", real=True))
    if len(mu) != d or len(logvar) != d:
        raise ValueError(f"mu and logvar must have d={d} symbols each, got {len(mu)} and "
                         f"{len(logvar)}; pass d symbols or leave them out")
    m1, s1, m2, s2 = gaussian_symbols()
    base = gaussian_kl_closed_form()
    total = sum(
        # simultaneous: the default symbols mu_1, mu_2 share names with the Gaussian's
        base.subs({m1: mu[j], s1: sp.exp(logvar[j] / 2), m2: 0, s2: 1}, simultaneous=True)
        for j in range(d)
    )
    return sp.expand(sp.expand_log(total, force=True))


def vae_kl_closed_form(d: int) -> sp.Expr:
    r"""The textbook VAE term :math:`\tfrac12\sum_j(\mu_j^2 + e^{\ell_j} - 1 - \ell_j)` in the
    default symbols of :func:`vae_kl_expr`."""
    d = size(d, "d")
    mu = sp.symbols(f"mu_1:{d + 1}", real=True)
    lv = sp.symbols(f"l_1:{d + 1}", real=True)
    return sp.Rational(1, 2) * sum(m**2 + sp.exp(v) - 1 - v for m, v in zip(mu, lv))


def mvn_symbols(d: int = 2) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix]:
    r"""Means :math:`\boldsymbol\mu_1, \boldsymbol\mu_2` (``d x 1``) and symmetric covariances
    :math:`\Sigma_1 = (a_{ij})`, :math:`\Sigma_2 = (b_{ij})` (``d x d``) as sympy matrices of real symbols."""
    d = size(d, "d")
    m1 = sp.Matrix(d, 1, lambda i, _: sp.Symbol(f"m_{i + 1}", real=True))
    m2 = sp.Matrix(d, 1, lambda i, _: sp.Symbol(f"n_{i + 1}", real=True))

    def cov(letter: str) -> sp.Matrix:
        return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{letter}_{min(i, j) + 1}{max(i, j) + 1}", real=True))

    return m1, cov("a"), m2, cov("b")


def mvn_kl_expr(d: int = 2) -> sp.Expr:
    r"""Derive :math:`D_{\mathrm{KL}}(\mathcal N(\boldsymbol\mu_1, \Sigma_1) \| \mathcal N(\boldsymbol\mu_2, \Sigma_2))`
    coordinate by coordinate: write :math:`\log p(x) - \log q(x)` as a polynomial in
    :math:`x_1, \dots, x_d` (densities with the explicit inverse and determinant), then take its
    expectation under :math:`p` term by term with the Gaussian moments
    :math:`\mathbb E[x_i] = \mu_{1,i}`, :math:`\mathbb E[x_i x_j] = (\Sigma_1)_{ij} + \mu_{1,i}\mu_{1,j}`.
    Meant for ``d = 2`` (written out in full); compare with :func:`mvn_kl_closed_form`.
    Chapter ``ch-vi``.
    """
    d = size(d, "d")
    m1, s1, m2, s2 = mvn_symbols(d)
    x = sp.Matrix(d, 1, lambda i, _: sp.Symbol(f"x_{i + 1}", real=True))

    def log_density(m: sp.Matrix, s: sp.Matrix) -> sp.Expr:
        r = x - m
        return -sp.Rational(d, 2) * sp.log(2 * sp.pi) - sp.log(s.det()) / 2 - (r.T * s.adjugate() * r)[0] / (2 * s.det())

    log_ratio = sp.expand(log_density(m1, s1) - log_density(m2, s2))
    poly = sp.Poly(log_ratio, *x)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        idx = [i for i, k in enumerate(powers) for _ in range(k)]  # degree <= 2
        if not idx:
            moment = sp.Integer(1)
        elif len(idx) == 1:
            moment = m1[idx[0]]
        else:
            moment = s1[idx[0], idx[1]] + m1[idx[0]] * m1[idx[1]]
        total += coeff * moment
    return total


def mvn_kl_closed_form(d: int = 2) -> sp.Expr:
    r"""The general formula
    :math:`\tfrac12[\operatorname{tr}(\Sigma_2^{-1}\Sigma_1) + (\boldsymbol\mu_2 - \boldsymbol\mu_1)^\top
    \Sigma_2^{-1}(\boldsymbol\mu_2 - \boldsymbol\mu_1) - d + \log\det\Sigma_2 - \log\det\Sigma_1]`
    in the symbols of :func:`mvn_symbols`.  Chapter ``ch-vi``."""
    d = size(d, "d")
    m1, s1, m2, s2 = mvn_symbols(d)
    inv = s2.adjugate() / s2.det()
    r = m2 - m1
    return sp.Rational(1, 2) * ((inv * s1).trace() + (r.T * inv * r)[0] - d + sp.log(s2.det()) - sp.log(s1.det()))
