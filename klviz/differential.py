r"""Differential entropy of continuous densities and the entropy of their quantisation.

.. math:: h(X) = -\int p(x) \log p(x)\, \mathrm dx, \qquad
          H(X_\Delta) \approx h(X) - \log \Delta \quad (\Delta \to 0),

where :math:`X_\Delta` is :math:`X` rounded to bins of width :math:`\Delta` (Cover & Thomas
2006, Thm. 8.3.1).  Chapter ``ch-information``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from klviz import _checks as checks
from klviz.info import entropy

__all__ = ["gaussian_entropy", "quantised_gaussian_entropy"]


def gaussian_entropy(sigma: float) -> float:
    r"""Differential entropy of :math:`\mathcal N(\mu, \sigma^2)` in nats:
    :math:`h = \tfrac12 \log(2\pi e \sigma^2)`, negative for :math:`\sigma < 1/\sqrt{2\pi e}`.
    The largest of all densities with variance :math:`\sigma^2` (Cover & Thomas 2006,
    Thm. 8.6.5).  Chapter ``ch-information``."""
    s = checks.positive(sigma, "sigma", hint="a standard deviation")
    return 0.5 * math.log(2 * math.pi * math.e * s * s)


def quantised_gaussian_entropy(sigma: float, delta: float, *, span: float = 12.0) -> float:
    r"""Entropy in nats of :math:`X \sim \mathcal N(0, \sigma^2)` rounded to bins of width
    ``delta`` (bin edges at multiples of ``delta``), the bin probabilities taken from the normal
    CDF over :math:`\pm` ``span`` standard deviations (the mass outside is below
    :math:`10^{-30}` at the default).  Compare with :func:`gaussian_entropy` minus
    :math:`\log \Delta`.  Chapter ``ch-information``."""
    s = checks.positive(sigma, "sigma", hint="a standard deviation")
    d = checks.positive(delta, "delta", hint="the bin width")
    w = checks.positive(span, "span", hint="how many standard deviations the bins cover")
    k = math.ceil(w * s / d)
    if k > 5_000_000:
        raise ValueError(f"delta: {2 * k} bins are too many; use delta >= {w * s / 5e6:.1e}")
    edges = np.arange(-k, k + 1) * d
    cdf = stats.norm.cdf(edges, scale=s)
    mass = np.diff(cdf)
    mass[0] += cdf[0]
    mass[-1] += 1.0 - cdf[-1]
    return float(entropy(mass / mass.sum()))
