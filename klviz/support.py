r"""What divergences do when the supports of :math:`p` and :math:`q` (nearly) stop overlapping,
chapter ``ch-kl``: the forward KL blows up as :math:`q \to 0` where :math:`p > 0` while the
reverse KL and JS stay bounded, and between shifted boxes only the Wasserstein distance keeps
a useful gradient (Arjovsky et al. 2017, *Wasserstein GAN*)."""

from __future__ import annotations

import numpy as np

from klviz import _checks as checks
from klviz.info import js_divergence, kl_divergence

__all__ = ["kl_blowup_curves", "box_shift_divergences"]


def kl_blowup_curves(eps: np.ndarray, p_rare: float = 0.2) -> dict[str, np.ndarray]:
    r"""For :math:`p = (a, 1-a)` and :math:`q = (\varepsilon, 1-\varepsilon)`: the forward
    KL :math:`D_{\mathrm{KL}}(p\|q)` (grows like :math:`a\log(a/\varepsilon) + (1-a)\log(1-a)`,
    the ``"asymptote"``), the reverse KL
    :math:`D_{\mathrm{KL}}(q\|p)` (bounded by :math:`-\log(1-a)`) and JS (bounded by
    :math:`\log 2`), all from :mod:`klviz.info`.  Chapter ``ch-kl``."""
    p_rare = checks.fraction(p_rare, "p_rare", open_low=True, open_high=True,
                             hint="the true probability of the rare outcome, e.g. 0.2")
    eps = np.asarray(eps, dtype=np.float64)
    if np.any((eps < 0) | (eps > 1)):
        raise ValueError("eps must hold probabilities in [0, 1]")
    p = np.broadcast_to(np.array([p_rare, 1.0 - p_rare]), eps.shape + (2,))
    q = np.stack([eps, 1.0 - eps], axis=-1)
    return {
        "forward": kl_divergence(p, q),
        "reverse": kl_divergence(q, p),
        "js": js_divergence(p, q),
        # the eps -> 0 limit of the forward KL, up to o(1)
        "asymptote": p_rare * np.log(p_rare / np.where(eps > 0, eps, np.nan))
        + (1.0 - p_rare) * np.log(1.0 - p_rare),
    }


def box_shift_divergences(shifts: np.ndarray, *, n_per_unit: int = 200) -> dict[str, np.ndarray]:
    r"""KL, JS and Wasserstein-1 between :math:`p = U[0, 1]` and :math:`q = U[s, s+1]`,
    discretised with ``n_per_unit`` cells per unit length.  KL is :math:`+\infty` for every
    :math:`s > 0` (some cell has :math:`q = 0 < p`); JS equals :math:`\min(s, 1)\log 2`; the
    Wasserstein distance (``scipy.stats.wasserstein_distance``) equals :math:`s`
    (Arjovsky et al. 2017).  Chapter ``ch-kl``."""
    from scipy.stats import wasserstein_distance  # noqa: PLC0415 - scipy is slow to import

    n_per_unit = checks.positive_int(n_per_unit, "n_per_unit", hint="cells per unit length, e.g. 200")
    shifts = checks.vector(shifts, "shifts", hint="shifts of the box, in units of its width")
    if np.any(shifts < 0) or shifts.max() > 1e3:
        raise ValueError(f"shifts must lie in [0, 1000] box widths, got [{shifts.min()}, {shifts.max()}]")
    steps = np.rint(shifts * n_per_unit).astype(int)
    size = n_per_unit + int(steps.max(initial=0))
    centres = (np.arange(size) + 0.5) / n_per_unit
    p = np.zeros(size)
    p[:n_per_unit] = 1.0 / n_per_unit
    out = {"shift": steps / n_per_unit, "kl": [], "js": [], "wasserstein": []}
    for k in steps:
        q = np.zeros(size)
        q[k:k + n_per_unit] = 1.0 / n_per_unit
        out["kl"].append(float(kl_divergence(p, q)))
        out["js"].append(float(js_divergence(p, q)))
        out["wasserstein"].append(wasserstein_distance(centres, centres, p, q))
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
