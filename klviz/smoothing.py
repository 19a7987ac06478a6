r"""Label smoothing (Szegedy et al. 2016, *Rethinking the Inception Architecture*), chapter
``ch-cross-entropy``: the smoothed target and the cross-entropy against it as a function of the
predicted probability of the true class."""

from __future__ import annotations

import numpy as np

from klviz import _checks as checks
from klviz.info import cross_entropy

__all__ = ["smoothed_target", "smoothed_ce_curve"]


def _smoothing(epsilon: float, num_classes: int) -> tuple[float, int]:
    eps = checks.fraction(epsilon, "epsilon", hint="0 = no smoothing, e.g. 0.1")
    c = checks.integer(num_classes, "num_classes", low=2, hint="the number of classes C")
    return eps, c


def smoothed_target(label: int, *, epsilon: float, num_classes: int) -> np.ndarray:
    r"""The label-smoothed target of Szegedy et al. (2016):

    .. math:: p^{\varepsilon} = (1-\varepsilon)\, e_y + \varepsilon / C .

    Chapter ``ch-cross-entropy`` (label smoothing).
    """
    eps, c = _smoothing(epsilon, num_classes)
    label = checks.integer(label, "label", low=0, high=c - 1, hint="a class index")
    p = np.full(c, eps / c)
    p[label] += 1.0 - eps
    return p


def smoothed_ce_curve(q_true: np.ndarray, *, epsilon: float, num_classes: int) -> np.ndarray:
    r"""Cross-entropy :math:`H(p^{\varepsilon}, q)` as a function of :math:`q_y`.

    The prediction puts :math:`q_y` on the true class and spreads :math:`1 - q_y` evenly
    over the other :math:`C-1` classes, so

    .. math:: H(p^{\varepsilon}, q) = -\big(1-\varepsilon+\tfrac{\varepsilon}{C}\big)\log q_y
              - \varepsilon\tfrac{C-1}{C}\log\frac{1-q_y}{C-1},

    minimal at :math:`q_y = 1-\varepsilon+\varepsilon/C` where it equals
    :math:`H(p^{\varepsilon})` (Szegedy et al. 2016).  Computed with
    :func:`klviz.info.cross_entropy`.  Chapter ``ch-cross-entropy``.
    """
    _, c = _smoothing(epsilon, num_classes)
    q_true = np.atleast_1d(np.asarray(q_true, dtype=np.float64))
    if np.any((q_true < 0) | (q_true > 1)):
        raise ValueError("q_true must hold probabilities in [0, 1]")
    q = np.empty((q_true.size, c))
    q[:, 0] = q_true
    q[:, 1:] = ((1.0 - q_true) / (c - 1))[:, None]
    return cross_entropy(smoothed_target(0, epsilon=epsilon, num_classes=c), q)
