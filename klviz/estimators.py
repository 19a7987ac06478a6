r"""Monte Carlo estimators of a KL divergence from samples, as used for RLHF's KL penalty.

With samples :math:`x \sim p` (the policy :math:`\pi_\theta`) and the log-ratio to the
reference :math:`q` (:math:`\pi_{\mathrm{ref}}`)

.. math:: \log r(x) = \log q(x) - \log p(x), \qquad
          D_{\mathrm{KL}}(p\|q) = \mathbb E_{x\sim p}[-\log r(x)],

three per-sample estimators are in use (Schulman 2020, *Approximating KL divergence*):

.. math::
    k_1 = -\log r, \qquad k_2 = \tfrac12 (\log r)^2, \qquad k_3 = (r - 1) - \log r .

- :math:`k_1` is unbiased but has high variance and takes negative values.
- :math:`k_2` is biased (its mean is an :math:`f`-divergence that agrees with KL only to
  second order in :math:`\log r`) but has low variance and is non-negative.
- :math:`k_3` adds the zero-mean control variate :math:`r - 1` (:math:`\mathbb E_p[r] = 1`)
  to :math:`k_1`: unbiased, non-negative (:math:`\log r \le r - 1`), low variance when
  :math:`p \approx q`.

The functions take ``log_ratio`` (numpy or torch, any shape) so they work on the log-ratios
of sampled tokens of a language model as well as on toy distributions.
:func:`expected_gradient` gives what each estimator's *gradient* estimates for a categorical
policy: the value and the gradient of an estimator are different questions (an unbiased value
does not make an unbiased gradient).  Chapter ``ch-kl-practice``, KL in deep learning practice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz._backend import is_tensor

__all__ = [
    "ESTIMATORS",
    "k1",
    "k2",
    "k3",
    "kl_estimate",
    "EstimatorStats",
    "estimator_stats",
    "exact_estimator_moments",
    "GRADIENT_TERMS",
    "expected_gradient",
    "sample_log_ratio_categorical",
    "sample_log_ratio_gaussian",
    "gaussian_estimator_table",
    "per_token_kl",
    "summarize",
]

ArrayLike = Any


def _as_log_ratio(log_ratio: ArrayLike) -> Any:
    if is_tensor(log_ratio):
        x = log_ratio if log_ratio.is_floating_point() else log_ratio.double()
        bad = bool(x.detach().isnan().any()) or bool((x.detach() == math.inf).any())
    else:
        x = np.asarray(log_ratio, dtype=float)
        bad = bool(np.isnan(x).any() or np.isposinf(x).any())
    if x.size == 0:
        raise ValueError("log_ratio is empty: pass at least one sample's log q(x) - log p(x)")
    if bad:
        raise ValueError(
            "log_ratio contains NaN or +inf: pass log q(x) - log p(x) for samples x ~ p, "
            "which is finite wherever p(x) > 0 (it is -inf only where q(x) = 0)"
        )
    return x


def k1(log_ratio: ArrayLike) -> Any:
    r"""The naive estimator :math:`k_1 = -\log r`; unbiased for :math:`D_{\mathrm{KL}}(p\|q)`.

    ``log_ratio`` is :math:`\log r = \log q(x) - \log p(x)` for samples :math:`x \sim p`.
    Schulman (2020); chapter ``ch-kl-practice``.
    """
    return -_as_log_ratio(log_ratio)


def k2(log_ratio: ArrayLike) -> Any:
    r"""The squared estimator :math:`k_2 = \tfrac12 (\log r)^2`: non-negative, low variance, biased.

    Its mean is the :math:`f`-divergence with :math:`f(r) = \tfrac12 \log^2 r`, which matches
    :math:`D_{\mathrm{KL}}(p\|q)` to second order as :math:`q \to p`.
    Schulman (2020); chapter ``ch-kl-practice``.
    """
    lr = _as_log_ratio(log_ratio)
    return 0.5 * lr * lr


def k3(log_ratio: ArrayLike) -> Any:
    r"""The control-variate estimator :math:`k_3 = (r - 1) - \log r`: unbiased and non-negative.

    Computed as ``expm1(log r) - log r`` so that it stays accurate (and exactly
    :math:`\ge 0`) when :math:`r \approx 1`; :math:`\log r = -\infty` (``q(x) = 0``) gives
    :math:`+\infty`, the correct value.  Schulman (2020); chapter ``ch-kl-practice``.
    """
    lr = _as_log_ratio(log_ratio)
    # expm1(x) - x still cancels for |x| << 1 (relative error ~ 2 eps / |x|); there the
    # Taylor series x^2/2! + ... + x^9/9! is exact to ~1e-14 relative for |x| < 0.1.
    if is_tensor(lr):
        small = lr.abs() < 0.1
        xs = _torch_where_small(lr, small)
        series = _k3_series(xs)
        return _torch_select(small, series, lr.expm1() - lr)
    with np.errstate(invalid="ignore", over="ignore"):
        small = np.abs(lr) < 0.1
        series = _k3_series(np.where(small, lr, 0.0))
        return np.where(small, series, np.expm1(lr) - lr)


def _k3_series(x: Any) -> Any:
    # Horner form of sum_{j=2}^{9} x^j / j!
    acc = 1.0 / math.factorial(9)
    for j in range(8, 1, -1):
        acc = acc * x + 1.0 / math.factorial(j)
    return acc * x * x


def _torch_where_small(x: Any, small: Any) -> Any:
    import torch

    return torch.where(small, x, torch.zeros_like(x))


def _torch_select(cond: Any, a: Any, b: Any) -> Any:
    import torch

    return torch.where(cond, a, b)


#: The three estimators by name, in the order the chapter shows them.
ESTIMATORS: dict[str, Callable[[ArrayLike], Any]] = {"k1": k1, "k2": k2, "k3": k3}


def kl_estimate(log_ratio: ArrayLike, estimator: str = "k3", *, axis: int | None = None) -> Any:
    r"""Average of one estimator over samples: :math:`\frac1n \sum_i k(\log r_i)`.

    ``axis=None`` averages every element.  ``estimator`` is ``"k1"``, ``"k2"`` or ``"k3"``.
    Chapter ``ch-kl-practice``.
    """
    fn = _estimator(estimator)
    vals = fn(log_ratio)
    if is_tensor(vals):
        return vals.mean() if axis is None else vals.mean(dim=axis)
    return vals.mean() if axis is None else vals.mean(axis=axis)


def _estimator(name: str) -> Callable[[ArrayLike], Any]:
    return ESTIMATORS[checks.choice(name, "estimator", sorted(ESTIMATORS))]


@dataclass(frozen=True)
class EstimatorStats:
    r"""Bias and spread of one estimator, measured on ``n`` samples.

    ``mean`` and ``std`` are those of a *single* sample's estimate; the standard error of the
    average of ``n`` samples is ``std / sqrt(n)`` (:attr:`stderr`).  ``rel_bias`` and
    ``rel_std`` divide by the true KL, as in Schulman (2020).
    """

    name: str
    true_kl: float
    mean: float
    std: float
    n: int
    frac_negative: float

    @property
    def bias(self) -> float:
        return self.mean - self.true_kl

    @property
    def rel_bias(self) -> float:
        return self.bias / self.true_kl if self.true_kl > 0 else math.nan

    @property
    def rel_std(self) -> float:
        return self.std / self.true_kl if self.true_kl > 0 else math.nan

    @property
    def stderr(self) -> float:
        return self.std / math.sqrt(self.n)


def estimator_stats(log_ratio: ArrayLike, true_kl: float) -> dict[str, EstimatorStats]:
    r"""Measure :math:`k_1, k_2, k_3` on one set of samples: mean, bias, standard deviation.

    ``log_ratio``: 1-D (or any shape, flattened) :math:`\log q(x_i) - \log p(x_i)`,
    :math:`x_i \sim p`.  ``true_kl``: the exact :math:`D_{\mathrm{KL}}(p\|q)` to measure the
    bias against.  Chapter ``ch-kl-practice``.
    """
    lr = _as_log_ratio(log_ratio)
    lr = lr.detach().cpu().double().numpy() if is_tensor(lr) else lr
    lr = np.ravel(lr)
    if lr.size < 2:
        raise ValueError(f"log_ratio: give at least 2 samples to measure a spread; got {lr.size}")
    true_kl = checks.nonnegative(true_kl, "true_kl", hint="the exact KL divergence in nats")
    out = {}
    for name, fn in ESTIMATORS.items():
        v = np.asarray(fn(lr), dtype=float)
        out[name] = EstimatorStats(
            name=name,
            true_kl=true_kl,
            mean=float(v.mean()),
            std=float(v.std(ddof=1)),
            n=int(v.size),
            frac_negative=float((v < 0).mean()),
        )
    return out


def exact_estimator_moments(p: ArrayLike, q: ArrayLike) -> dict[str, tuple[float, float]]:
    r"""Exact mean and variance of :math:`k_1, k_2, k_3` for categorical :math:`p, q`.

    For :math:`x \sim p` over a finite set, :math:`\mathbb E[k] = \sum_x p(x)\, k(x)` and
    :math:`\operatorname{Var}[k] = \sum_x p(x)\, k(x)^2 - \mathbb E[k]^2`; no sampling.
    Outcomes with :math:`p(x) = 0` are never drawn and are skipped.  Requires
    :math:`q(x) > 0` wherever :math:`p(x) > 0` (otherwise the KL is infinite).
    Returns ``{name: (mean, variance)}``.  Chapter ``ch-kl-practice``.
    """
    pp = np.asarray(p, dtype=float)
    qq = np.asarray(q, dtype=float)
    if pp.ndim != 1 or pp.shape != qq.shape:
        raise ValueError(f"p and q: give two 1-D probability vectors of equal length; got {pp.shape}, {qq.shape}")
    info.kl_divergence(pp, qq)  # validates both (ValueError naming p or q)
    support = pp > 0
    if np.any(qq[support] == 0):
        raise ValueError("q is 0 where p > 0: KL(p||q) is infinite and so are the estimators' means")
    w = pp[support]
    lr = np.log(qq[support]) - np.log(w)
    out = {}
    for name, fn in ESTIMATORS.items():
        k = np.asarray(fn(lr), dtype=float)
        mean = float(np.sum(w * k))
        out[name] = (mean, float(np.sum(w * (k - mean) ** 2)))
    return out


#: d k / d(log r) for each estimator, the outer factor of the chain rule in
#: :func:`expected_gradient` (k1 = -l, k2 = l^2/2, k3 = e^l - 1 - l)
_DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "k1": lambda lr: -np.ones_like(lr),
    "k2": lambda lr: lr,
    "k3": np.expm1,
}

#: The parts of the gradient of an expectation over the policy's own samples.
GRADIENT_TERMS = ("pathwise", "score", "total")


def expected_gradient(
    policy_logits: ArrayLike,
    ref_logits: ArrayLike,
    estimator: str = "k3",
    *,
    term: str = "pathwise",
) -> np.ndarray:
    r"""Exact expected gradient of one KL estimator with respect to the policy's logits.

    For a categorical policy :math:`\pi_\theta = \operatorname{softmax}(\theta)` and a
    reference :math:`\pi_{\mathrm{ref}} = \operatorname{softmax}(\texttt{ref\_logits})`, let
    :math:`\ell(y) = \log\pi_{\mathrm{ref}}(y) - \log\pi_\theta(y)`; then
    :math:`\nabla_\theta \log\pi_\theta(y) = e_y - \pi_\theta` and the gradient of the
    estimator's mean splits into two sums over the :math:`C` outcomes:

    .. math::
        \nabla_\theta\, \mathbb E_{y\sim\pi_\theta}[k(\ell(y))]
        = \underbrace{\mathbb E\big[k(\ell(y))\,(e_y - \pi_\theta)\big]}_{\text{score}}
        + \underbrace{\mathbb E\big[-k'(\ell(y))\,(e_y - \pi_\theta)\big]}_{\text{pathwise}} .

    ``term="pathwise"`` (the default) holds the sampled :math:`y` fixed: it is the mean of
    what autograd returns for the estimator used as a loss term on sampled tokens.  It is
    :math:`0` for :math:`k_1`, :math:`\nabla_\theta D_{\mathrm{KL}}(\pi_\theta\|\pi_{\mathrm{ref}})`
    for :math:`k_2`, and :math:`\pi_\theta - \pi_{\mathrm{ref}} = \nabla_\theta
    D_{\mathrm{KL}}(\pi_{\mathrm{ref}}\|\pi_\theta)`, the *forward* KL, for :math:`k_3`.
    ``"score"`` is the score-function (REINFORCE) part, what a policy gradient gives when
    the estimator is put in the reward; ``"total"`` is the sum.  Leading axes are batch axes,
    the last holds the classes.  Schulman (2020) for the estimators, Shao et al. (2024, GRPO)
    for :math:`k_3` as a loss term; chapter ``ch-kl-practice``.
    """
    name = checks.choice(estimator, "estimator", sorted(ESTIMATORS))
    part = checks.choice(term, "term", GRADIENT_TERMS)
    lp = np.asarray(info.log_softmax(_logits(policy_logits, "policy_logits")), dtype=float)
    lq = np.asarray(info.log_softmax(_logits(ref_logits, "ref_logits")), dtype=float)
    if lp.shape != lq.shape:
        raise ValueError(f"policy_logits and ref_logits: give equal shapes; got {lp.shape}, {lq.shape}")
    p = np.exp(lp)
    lr = lq - lp
    # weight of each outcome y in sum_y p_y w_y (e_y - p) = p * w - p * sum_y p_y w_y
    w = np.zeros_like(lr)
    if part in ("score", "total"):
        w = w + np.asarray(ESTIMATORS[name](lr), dtype=float)
    if part in ("pathwise", "total"):
        w = w - _DERIVATIVES[name](lr)
    pw = p * w
    return pw - p * pw.sum(axis=-1, keepdims=True)


def _logits(x: ArrayLike, name: str) -> np.ndarray:
    if is_tensor(x):
        x = x.detach().cpu().double().numpy()
    arr = np.asarray(x, dtype=float)
    if arr.ndim < 1 or arr.shape[-1] < 2:
        raise ValueError(f"{name}: give logits with at least 2 classes on the last axis; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: logits must be finite (no NaN or inf)")
    return arr


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def sample_log_ratio_categorical(
    p: ArrayLike, q: ArrayLike, n: int, *, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    r"""Draw :math:`x_1..x_n \sim p` (categorical) and return :math:`\log q(x_i) - \log p(x_i)`.

    Chapter ``ch-kl-practice``.
    """
    pp = np.asarray(p, dtype=float)
    qq = np.asarray(q, dtype=float)
    if pp.ndim != 1 or pp.shape != qq.shape:
        raise ValueError(f"p and q: give two 1-D probability vectors of equal length; got {pp.shape}, {qq.shape}")
    info.kl_divergence(pp, qq)
    n = checks.positive_int(n, "n", hint="the number of samples")
    x = _rng(rng).choice(pp.size, size=n, p=pp / pp.sum())
    with np.errstate(divide="ignore"):
        return np.log(qq[x]) - np.log(pp[x])


def sample_log_ratio_gaussian(
    mu: float,
    sigma: float,
    ref_mu: float = 0.0,
    ref_sigma: float = 1.0,
    n: int = 10_000,
    *,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    r"""Draw :math:`x_i \sim p = \mathcal N(\mu, \sigma^2)` and return :math:`\log q(x_i) - \log p(x_i)`,
    :math:`q = \mathcal N(\mu_{\mathrm{ref}}, \sigma_{\mathrm{ref}}^2)`.

    The exact :math:`D_{\mathrm{KL}}(p\|q)` is :func:`klviz.info.gaussian_kl` ``(mu, sigma,
    ref_mu, ref_sigma)``.  Chapter ``ch-kl-practice``.
    """
    mu = checks.finite(mu, "mu")
    ref_mu = checks.finite(ref_mu, "ref_mu")
    sigma = checks.positive(sigma, "sigma", hint="a standard deviation")
    ref_sigma = checks.positive(ref_sigma, "ref_sigma", hint="a standard deviation")
    n = checks.positive_int(n, "n", hint="the number of samples")
    x = _rng(rng).normal(mu, sigma, size=n)
    zp = (x - mu) / sigma
    zq = (x - ref_mu) / ref_sigma
    # the 1/sqrt(2 pi) constants cancel in the ratio
    return (np.log(sigma) - np.log(ref_sigma)) + 0.5 * (zp * zp - zq * zq)


def gaussian_estimator_table(
    shifts: Sequence[float],
    *,
    n: int = 100_000,
    sigma: float = 1.0,
    rng: np.random.Generator | int | None = 0,
) -> list[dict[str, float]]:
    r"""Bias and standard deviation of :math:`k_1, k_2, k_3` for :math:`p = \mathcal N(\mu, \sigma^2)`,
    :math:`q = \mathcal N(0, 1)`, one row per shift :math:`\mu`.

    Each row holds ``mu``, ``true_kl`` and, per estimator, ``<k>_rel_bias`` and ``<k>_rel_std``
    (divided by the true KL) measured on ``n`` samples.  Chapter ``ch-kl-practice``.
    """
    gen = _rng(rng)
    rows = []
    for mu in shifts:
        true_kl = float(info.gaussian_kl(mu, sigma, 0.0, 1.0))
        if true_kl <= 0:
            raise ValueError(f"shifts: mu={mu} with sigma={sigma} gives KL 0; relative errors are undefined")
        stats = estimator_stats(sample_log_ratio_gaussian(mu, sigma, 0.0, 1.0, n, rng=gen), true_kl)
        row: dict[str, float] = {"mu": float(mu), "true_kl": true_kl}
        for name, s in stats.items():
            row[f"{name}_rel_bias"] = s.rel_bias
            row[f"{name}_rel_std"] = s.rel_std
        rows.append(row)
    return rows


def per_token_kl(
    policy_logits: Any,
    ref_logits: Any,
    tokens: Any | None = None,
    *,
    estimator: str = "exact",
    mask: Any | None = None,
) -> Any:
    r"""Per-token KL between a policy and a reference language model, shape ``(B, N)``.

    ``policy_logits`` and ``ref_logits`` are torch tensors ``(B, N, V)``.

    - ``estimator="exact"``: :math:`\sum_v \pi_\theta(v)\,[\log\pi_\theta(v) - \log\pi_{\mathrm{ref}}(v)]`
      at every position, :math:`O(BNV)` (:func:`klviz.info.kl_divergence_from_logits`).
    - ``"k1"``, ``"k2"``, ``"k3"``: the sample estimate at the sampled ``tokens`` ``(B, N)``
      (drawn from the policy), from :math:`\log r = \log\pi_{\mathrm{ref}}(x_t) - \log\pi_\theta(x_t)`.
      This is what RLHF implementations add to the reward (Ouyang et al. 2022 use
      :math:`k_1`; many libraries offer :math:`k_3`).

    ``mask`` ``(B, N)`` (1 = real token, 0 = padding) zeroes padded positions.  Computed in
    float32 (or float64 if given).  Chapter ``ch-kl-practice``.
    """
    import torch

    checks.tensor(policy_logits, "policy_logits", what="logits of shape (B, N, V)")
    checks.tensor(ref_logits, "ref_logits", what="logits of shape (B, N, V)")
    checks.choice(estimator, "estimator", ("exact", *sorted(ESTIMATORS)))
    if policy_logits.shape != ref_logits.shape or policy_logits.dim() != 3:
        raise ValueError(
            "policy_logits and ref_logits must both have shape (B, N, V); got "
            f"{tuple(policy_logits.shape)} and {tuple(ref_logits.shape)}"
        )
    dtype = torch.float64 if policy_logits.dtype == torch.float64 else torch.float32
    if estimator == "exact":
        out = info.kl_divergence_from_logits(policy_logits.to(dtype), ref_logits.to(dtype))
    else:
        fn = _estimator(estimator)
        if tokens is None:
            raise ValueError(f"tokens: estimator={estimator!r} needs the sampled tokens, shape (B, N)")
        if tokens.shape != policy_logits.shape[:2]:
            raise ValueError(f"tokens must have shape {tuple(policy_logits.shape[:2])}; got {tuple(tokens.shape)}")
        lp = policy_logits.to(dtype).log_softmax(-1)
        lq = ref_logits.to(dtype).log_softmax(-1)
        idx = tokens.long().unsqueeze(-1)
        log_r = (lq.gather(-1, idx) - lp.gather(-1, idx)).squeeze(-1)
        out = fn(log_r)
    if mask is not None:
        if tuple(mask.shape) != tuple(out.shape):
            raise ValueError(f"mask must have shape {tuple(out.shape)}; got {tuple(mask.shape)}")
        out = torch.where(mask.bool(), out, torch.zeros_like(out))
    return out


def summarize(stats: Mapping[str, EstimatorStats]) -> list[dict[str, float | str]]:
    """Rows (one per estimator) for a table: mean, bias, std, relative bias/std, share negative."""
    return [
        {
            "estimator": s.name,
            "mean": s.mean,
            "bias": s.bias,
            "std": s.std,
            "rel_bias": s.rel_bias,
            "rel_std": s.rel_std,
            "frac_negative": s.frac_negative,
        }
        for s in stats.values()
    ]
