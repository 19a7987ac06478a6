r"""The Fisher information and the local quadratic form of the KL divergence, with sympy.

Near a point of a smooth family :math:`p_\theta`,

.. math:: D_{\mathrm{KL}}(p_\theta \| p_{\theta + \delta})
          = \tfrac12\, \delta^\top F(\theta)\, \delta + O(\|\delta\|^3),
          \qquad F(\theta) = \mathbb E_{p_\theta}\!\big[\nabla_\theta \log p_\theta\,
          \nabla_\theta \log p_\theta^\top\big],

because the KL and its gradient vanish at :math:`\delta = 0` and its Hessian there is the
Fisher information (Kullback 1959; Amari 1998).  This module derives both sides for the
categorical family and for the univariate Gaussian, and Pinsker's inequality for two
Bernoullis by the classical derivative argument.  Chapter ``ch-information``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from klviz.symbolic._exact import size
from klviz.symbolic.gaussian import gaussian_kl_closed_form, gaussian_symbols

__all__ = [
    "categorical_family",
    "fisher_information",
    "kl_hessian",
    "categorical_fisher_closed_form",
    "gaussian_fisher",
    "binary_pinsker_derivative",
]


def categorical_family(k: int) -> tuple[list[sp.Symbol], list[sp.Expr]]:
    r"""The categorical family on ``k`` outcomes in its free coordinates:
    :math:`\theta_1, \dots, \theta_{k-1} > 0` and :math:`p = (\theta_1, \dots, \theta_{k-1},
    1 - \sum_i \theta_i)`.  Returns ``(theta, p)``.  Chapter ``ch-information``."""
    n = size(k, "k", minimum=2)
    theta = list(sp.symbols(f"theta_1:{n}", positive=True))
    return theta, [*theta, 1 - sum(theta)]


def fisher_information(probs: Sequence[sp.Expr], params: Sequence[sp.Symbol]) -> sp.Matrix:
    r"""The Fisher information of a discrete family, from its definition:

    .. math:: F_{ij}(\theta) = \sum_x p_\theta(x)\, \partial_i \log p_\theta(x)\,
              \partial_j \log p_\theta(x).

    ``probs`` are the outcome probabilities as expressions in ``params``.  Each entry is
    brought to one simplified fraction.  Fisher (1925).  Chapter ``ch-information``.
    """
    scores = [[sp.diff(sp.log(p), t) for t in params] for p in probs]
    n = len(params)
    return sp.Matrix(n, n, lambda i, j: sp.factor(sp.cancel(sp.together(
        sum(p * s[i] * s[j] for p, s in zip(probs, scores))))))


def kl_hessian(probs: Sequence[sp.Expr], params: Sequence[sp.Symbol]) -> sp.Matrix:
    r"""The Hessian of :math:`\delta \mapsto D_{\mathrm{KL}}(p_\theta \| p_{\theta+\delta})` at
    :math:`\delta = 0`, derived by differentiating the KL itself (no Fisher identity used):

    .. math:: \frac{\partial^2}{\partial\delta_i\,\partial\delta_j}
              \sum_x p_\theta(x) \log\frac{p_\theta(x)}{p_{\theta+\delta}(x)}\Big|_{\delta=0}.

    Equal to :func:`fisher_information` for every regular family: the local quadratic form of
    KL is :math:`\tfrac12\delta^\top F\delta`.  Chapter ``ch-information``.
    """
    delta = sp.symbols(f"delta_1:{len(params) + 1}", real=True)
    shifted = {t: t + d for t, d in zip(params, delta)}
    kl = sum(p * (sp.log(p) - sp.log(p.subs(shifted, simultaneous=True))) for p in probs)
    at_zero = dict.fromkeys(delta, 0)
    n = len(params)
    return sp.Matrix(n, n, lambda i, j: sp.factor(sp.cancel(sp.together(
        sp.diff(kl, delta[i], delta[j]).subs(at_zero)))))


def categorical_fisher_closed_form(k: int) -> tuple[list[sp.Symbol], sp.Matrix]:
    r"""The textbook Fisher information of the categorical family of :func:`categorical_family`:
    :math:`F = \operatorname{diag}(1/\theta_i) + \frac{1}{\theta_k} \mathbf 1 \mathbf 1^\top`
    with :math:`\theta_k = 1 - \sum_{i<k} \theta_i`.  Returns ``(theta, F)``.
    Chapter ``ch-information``."""
    theta, p = categorical_family(k)
    n = len(theta)
    last = p[-1]
    return theta, sp.Matrix(n, n, lambda i, j: (1 / theta[i] if i == j else 0) + 1 / last)


def gaussian_fisher() -> dict[str, sp.Matrix]:
    r"""The Fisher information of :math:`\mathcal N(\mu, \sigma^2)` in the coordinates
    :math:`(\mu, \sigma)`, twice:

    - ``"definition"``: :math:`\mathbb E[\nabla \log p\, \nabla \log p^\top]`, a polynomial in
      :math:`x - \mu` averaged with the Gaussian central moments :math:`\sigma^k (k-1)!!`;
    - ``"kl_hessian"``: the Hessian of the closed-form Gaussian KL
      (:func:`klviz.symbolic.gaussian_kl_closed_form`) in :math:`(\mu_2, \sigma_2)` at
      :math:`(\mu_1, \sigma_1)`.

    Both are :math:`\operatorname{diag}(1/\sigma^2, 2/\sigma^2)` in the symbols ``mu_1, sigma_1``
    of :func:`klviz.symbolic.gaussian_symbols`.  Chapter ``ch-information``.
    """
    mu1, s1, mu2, s2 = gaussian_symbols()
    x = sp.Symbol("x", real=True)
    logp = -sp.log(s1) - sp.log(2 * sp.pi) / 2 - (x - mu1) ** 2 / (2 * s1**2)
    score = [sp.diff(logp, v) for v in (mu1, s1)]
    y = sp.Symbol("y", real=True)  # x - mu_1

    def expectation(expr: sp.Expr) -> sp.Expr:
        # a polynomial in y = x - mu_1: its Gaussian central moments sigma^k (k - 1)!!, odd ones 0
        poly = sp.Poly(sp.expand(expr.subs(x, mu1 + y)), y)
        return sum(c * (sp.factorial2(k - 1) * s1**k if k % 2 == 0 else 0) for (k,), c in poly.terms())

    definition = sp.Matrix(2, 2, lambda i, j: sp.simplify(expectation(score[i] * score[j])))
    kl = gaussian_kl_closed_form()
    hessian = sp.hessian(kl, (mu2, s2)).subs({mu2: mu1, s2: s1})
    return {"definition": definition, "kl_hessian": sp.simplify(hessian)}


def binary_pinsker_derivative() -> dict[str, sp.Expr]:
    r"""Pinsker's inequality for two Bernoullis, by the derivative argument (Cover & Thomas
    2006, Lemma 11.6.1).  With :math:`g(q) = D_{\mathrm{KL}}(\mathrm{Ber}(p)\|\mathrm{Ber}(q))
    - 2(p - q)^2` (nats; :math:`\mathrm{TV} = |p - q|`),

    .. math:: g'(q) = (q - p)\Big(\frac{1}{q(1-q)} - 4\Big),

    which has the sign of :math:`q - p` because :math:`q(1-q) \le \tfrac14`; so :math:`g` is
    smallest at :math:`q = p`, where it is 0, and :math:`\mathrm{TV} \le \sqrt{D_{\mathrm{KL}}/2}`.
    Returns ``{"gap": g, "derivative": g' (factored), "claimed": the form above, "difference":
    derivative - claimed, simplified (0)}``.  Pinsker (1964).  Chapter ``ch-information``.
    """
    p, q = sp.symbols("p q", positive=True)
    kl = p * sp.log(p / q) + (1 - p) * sp.log((1 - p) / (1 - q))
    gap = kl - 2 * (p - q) ** 2
    derivative = sp.factor(sp.diff(gap, q))
    claimed = (q - p) * (1 / (q * (1 - q)) - 4)
    return {"gap": gap, "derivative": derivative, "claimed": claimed,
            "difference": sp.simplify(derivative - claimed)}
