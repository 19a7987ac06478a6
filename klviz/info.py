r"""Information measures for numpy arrays and torch tensors.

Every function takes numpy arrays, torch tensors, Python lists or scalars and returns the
same kind it was given (lists and scalars give numpy).  Torch results keep the autograd
graph, so the measures can be used as losses.

Conventions (used throughout the book):

- Probabilities live on ``axis`` (default: the last axis); the measure reduces that axis.
- ``base``: ``None`` or ``"e"`` gives nats, ``2`` gives bits, any other positive number
  other than 1 is allowed.  A value in base :math:`b` is the value in nats divided by
  :math:`\ln b`.
- :math:`0 \log 0 = 0` (and :math:`0 \log(0/q) = 0`): zero-probability outcomes
  contribute nothing.
- :math:`D_{\mathrm{KL}}(p\|q) = +\infty` and :math:`H(p, q) = +\infty` where some
  :math:`q_i = 0 < p_i`.  No warning is issued: ``inf`` is the mathematically correct value.
- Probability-in functions validate their input (``validate=True``): NaN or infinite
  entries, negative entries and rows that do not sum to 1 raise a ``ValueError`` that
  names the argument.  Validation looks at detached values, so it works under autograd.
  A row passes if its sum is within ``max(atol, n * eps)`` of 1, where ``n`` is the row
  length and ``eps`` the machine epsilon of the computing dtype: that is the worst-case
  rounding error of adding ``n`` numbers, so softmax outputs in float32 with many classes
  are not rejected.
- Logits-in functions (``*_from_logits``) work in log space (``log_softmax``,
  ``logsumexp``), never exp-then-log, so logits of :math:`\pm 10^4` give finite values.
- float16 / bfloat16 tensors (and float16 numpy arrays) are computed in float32 and the
  result is **float32**: sums of many half-precision terms lose too many digits, and the
  extra precision of the result is free.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special as _sp

from klviz._backend import (
    check_finite_number,
    common,
    is_tensor,
    log_base,
    normalize_axis,
)

__all__ = [
    "softmax",
    "log_softmax",
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "entropy_from_logits",
    "cross_entropy_from_logits",
    "kl_divergence_from_logits",
    "js_divergence_from_logits",
    "binary_entropy",
    "gaussian_kl",
    "vae_kl",
]

ArrayLike = Any  # numpy array, torch tensor, list or scalar

_LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- helpers
def _np_errstate():
    # log(0) = -inf and 0 * inf are intended here; the masks below give the conventions.
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _sum(x: Any, axis: int | None, torch_: bool) -> Any:
    if axis is None:
        return x
    return x.sum(dim=axis) if torch_ else np.sum(x, axis=axis)


def _where(cond: Any, a: Any, b: Any, torch_: bool) -> Any:
    if torch_:
        import torch

        return torch.where(cond, a, b)
    return np.where(cond, a, b)


def _log(x: Any, torch_: bool) -> Any:
    if torch_:
        return x.log()
    with _np_errstate():
        return np.log(x)


def _ones_like(x: Any, torch_: bool) -> Any:
    if torch_:
        import torch

        return torch.ones_like(x)
    return np.ones_like(x)


def _scale(value: Any, base: Any) -> Any:
    lb = log_base(base)
    return value if lb == 1.0 else value / lb


def _broadcast(p: Any, q: Any, torch_: bool, names: tuple[str, str] = ("p", "q")) -> tuple:
    try:
        shape = np.broadcast_shapes(tuple(p.shape), tuple(q.shape))
    except ValueError:
        raise ValueError(
            f"{names[0]} with shape {tuple(p.shape)} and {names[1]} with shape "
            f"{tuple(q.shape)} do not broadcast; give them the same shape "
            f"(or shapes numpy can broadcast)"
        ) from None
    if tuple(p.shape) == tuple(q.shape):
        return p, q
    if torch_:
        return p.expand(shape), q.expand(shape)
    return np.broadcast_to(p, shape), np.broadcast_to(q, shape)


def _detached_numpy(x: Any, torch_: bool) -> np.ndarray:
    if torch_:
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _validate_probs(
    x: Any, name: str, axis: int, atol: float, torch_: bool, shown_axis: Any = None
) -> None:
    """Raise a ValueError naming ``name`` unless ``x`` holds probability vectors on ``axis``."""
    n = x.shape[axis]
    if torch_ and n > 0:
        # fast path on the tensor's own device: one host sync for a bool, no copy; the
        # detailed (numpy) diagnosis below runs only when something is wrong
        import torch

        xd = x.detach()
        tol = max(float(atol), n * float(torch.finfo(xd.dtype).eps))
        sum_dtype = torch.float64 if xd.device.type != "mps" else None
        ok = (
            torch.isfinite(xd).all()
            & (xd >= 0).all()
            & ((xd.sum(dim=axis, dtype=sum_dtype) - 1.0).abs() <= tol).all()
        )
        if bool(ok):
            return
    a = _detached_numpy(x, torch_)
    if np.isnan(a).any():
        idx = tuple(int(i) for i in np.argwhere(np.isnan(a))[0])
        raise ValueError(
            f"{name} contains NaN (first at index {idx}); check how {name} was computed"
        )
    if np.isinf(a).any():
        idx = tuple(int(i) for i in np.argwhere(np.isinf(a))[0])
        raise ValueError(
            f"{name} contains an infinite entry (first at index {idx}); probabilities are in [0, 1]"
        )
    if (a < 0).any():
        idx = tuple(int(i) for i in np.argwhere(a < 0)[0])
        raise ValueError(
            f"{name} has a negative entry {name}[{', '.join(map(str, idx))}] = {float(a[idx])!r}; "
            f"probabilities must be >= 0 (for logits use the *_from_logits functions "
            f"or softmax first)"
        )
    shown = axis if shown_axis is None else shown_axis
    if n == 0:
        raise ValueError(f"{name} has length 0 along axis {axis}; a distribution needs an outcome")
    # sum in float64 so the check itself does not add rounding error
    sums = a.astype(np.float64).sum(axis=axis)
    tol = max(float(atol), n * float(np.finfo(a.dtype).eps))
    bad = np.abs(sums - 1.0) > tol
    if bad.any():
        row = tuple(int(i) for i in np.argwhere(bad)[0]) if sums.ndim else ()
        s = float(sums[row]) if sums.ndim else float(sums)
        where = f"row {row}" if row else "it"
        raise ValueError(
            f"{name} must sum to 1 along axis {shown}, but {where} sums to {s:.6g} "
            f"(tolerance {tol:.1e}, {int(bad.sum())} bad row(s)); normalise it "
            f"({name} / {name}.sum(axis={shown}, keepdims=True)) or, from logits, use "
            f"softmax(logits) or the *_from_logits functions"
        )


def _prepare(
    arrays: tuple[Any, ...], names: tuple[str, ...], axis: int, atol: float, validate: bool
) -> tuple[list[Any], int, bool]:
    converted, torch_ = common(*arrays)
    if len(converted) == 2:
        converted = list(_broadcast(converted[0], converted[1], torch_, names))
    ax = normalize_axis(axis, converted[0].ndim, names[0])
    if validate:
        for x, nm in zip(converted, names):
            _validate_probs(x, nm, ax, atol, torch_, shown_axis=axis)
    return converted, ax, torch_


def _plogp_over_q(p: Any, q: Any, torch_: bool) -> Any:
    """Elementwise p * log(p / q) with 0 log(0/q) = 0 and +inf where q = 0 < p.

    The ``where`` guards also keep gradients finite at p = 0 (no 0/0 in the backward pass).
    """
    pos = p > 0
    one = _ones_like(p, torch_)
    p_safe = _where(pos, p, one, torch_)
    q_safe = _where(pos, q, one, torch_)
    with _np_errstate():
        term = p * (_log(p_safe, torch_) - _log(q_safe, torch_))
    return _where(pos, term, 0.0 * p if torch_ else 0.0, torch_)


def _plogq(p: Any, q: Any, torch_: bool) -> Any:
    """Elementwise p * log q with 0 log q = 0 (even for q = 0), -inf where q = 0 < p."""
    pos = p > 0
    q_safe = _where(pos, q, _ones_like(q, torch_), torch_)
    with _np_errstate():
        term = p * _log(q_safe, torch_)
    return _where(pos, term, 0.0 * p if torch_ else 0.0, torch_)


def _check_temperature(temperature: Any) -> Any:
    check_finite_number(temperature, "temperature")
    return temperature


# ----------------------------------------------------------------------------- softmax
def log_softmax(logits: ArrayLike, *, axis: int = -1, temperature: float = 1.0) -> Any:
    r"""Log-softmax with temperature, computed stably (shift by the maximum / logsumexp).

    .. math:: \log \operatorname{softmax}(z/T)_i = z_i/T - \log \sum_j e^{z_j/T}

    Chapter ``ch-probability`` (Probability and softmax).  float16/bfloat16 tensors give float32.
    """
    _check_temperature(temperature)
    (z,), torch_ = common(logits)
    ax = normalize_axis(axis, z.ndim, "logits")
    z = z / temperature if temperature != 1.0 else z
    if torch_:
        return z.log_softmax(dim=ax)
    return _sp.log_softmax(z, axis=ax)


def softmax(logits: ArrayLike, *, axis: int = -1, temperature: float = 1.0) -> Any:
    r"""Softmax with temperature :math:`T > 0`.

    .. math:: \operatorname{softmax}(z/T)_i = \frac{e^{z_i/T}}{\sum_j e^{z_j/T}}

    Large :math:`T` flattens the distribution towards uniform, :math:`T \to 0` approaches
    the one-hot arg-max.  Chapter ``ch-probability`` (Probability and softmax).
    float16/bfloat16 tensors give float32.
    """
    _check_temperature(temperature)
    (z,), torch_ = common(logits)
    ax = normalize_axis(axis, z.ndim, "logits")
    z = z / temperature if temperature != 1.0 else z
    if torch_:
        return z.softmax(dim=ax)
    return _sp.softmax(z, axis=ax)


# ----------------------------------------------------------------------------- probabilities in
def entropy(
    p: ArrayLike, *, axis: int = -1, base: Any = None, atol: float = 1e-6, validate: bool = True
) -> Any:
    r"""Shannon entropy of the distribution(s) ``p`` along ``axis``.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0.

    Chapter ``ch-entropy`` (Entropy).  ``base=2`` gives bits.  See the module
    docstring for validation.
    """
    (pp,), ax, torch_ = _prepare((p,), ("p",), axis, atol, validate)
    # 0.0 - x rather than -x: an all-certain row gives +0.0, not -0.0
    h = 0.0 - _sum(_plogp_over_q(pp, _ones_like(pp, torch_), torch_), ax, torch_)
    return _scale(h, base)


def cross_entropy(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Cross-entropy of ``q`` relative to ``p`` (``p`` is the true distribution).

    .. math:: H(p, q) = -\sum_i p_i \log q_i = H(p) + D_{\mathrm{KL}}(p \| q).

    Terms with :math:`p_i = 0` contribute 0; the result is :math:`+\infty` (no warning)
    where some :math:`q_i = 0 < p_i`.  Chapter ``ch-cross-entropy`` (Cross-entropy).
    """
    (pp, qq), ax, torch_ = _prepare((p, q), ("p", "q"), axis, atol, validate)
    return _scale(0.0 - _sum(_plogq(pp, qq, torch_), ax, torch_), base)


def kl_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Kullback-Leibler divergence of ``q`` from ``p``.

    .. math:: D_{\mathrm{KL}}(p \| q) = \sum_i p_i \log \frac{p_i}{q_i} \ge 0.

    Terms with :math:`p_i = 0` contribute 0 (even where :math:`q_i = 0`); the result is
    :math:`+\infty` (no warning is issued) where some :math:`q_i = 0 < p_i`, because ``q``
    then cannot explain an outcome ``p`` says happens.  Chapter ``ch-kl`` (KL divergence).
    """
    (pp, qq), ax, torch_ = _prepare((p, q), ("p", "q"), axis, atol, validate)
    return _scale(_sum(_plogp_over_q(pp, qq, torch_), ax, torch_), base)


def js_divergence(
    p: ArrayLike,
    q: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    atol: float = 1e-6,
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon divergence (symmetric, bounded).

    .. math::
        D_{\mathrm{JS}}(p \| q) = \tfrac12 D_{\mathrm{KL}}(p \| m) + \tfrac12 D_{\mathrm{KL}}(q \| m),
        \qquad m = \tfrac12 (p + q),

    so :math:`0 \le D_{\mathrm{JS}} \le \log 2` (1 bit); always finite, since
    :math:`m_i \ge p_i / 2`.  Its square root is a metric (scipy's ``jensenshannon``).
    Chapter ``ch-kl`` (KL divergence, symmetric alternatives).
    """
    (pp, qq), ax, torch_ = _prepare((p, q), ("p", "q"), axis, atol, validate)
    m = 0.5 * (pp + qq)
    js = 0.5 * _sum(_plogp_over_q(pp, m, torch_), ax, torch_) + 0.5 * _sum(
        _plogp_over_q(qq, m, torch_), ax, torch_
    )
    return _scale(js, base)


# ----------------------------------------------------------------------------- logits in
def _log_probs(
    logits: tuple[Any, ...], names: tuple[str, ...], axis: int, temperature: float
) -> tuple[list[Any], int, bool]:
    _check_temperature(temperature)
    zs, torch_ = common(*logits)
    if len(zs) == 2:
        zs = list(_broadcast(zs[0], zs[1], torch_, names))
    ax = normalize_axis(axis, zs[0].ndim, names[0])
    out = []
    for z, name in zip(zs, names):
        if torch_:
            zd = z.detach()
            bad = bool((zd.isnan() | zd.isposinf()).any())
        else:
            bad = bool(np.isnan(z).any() or np.isposinf(z).any())
        if bad:
            raise ValueError(
                f"{name} contains NaN or +inf; logits must be finite (-inf is allowed and "
                f"means probability 0)"
            )
        z = z / temperature if temperature != 1.0 else z
        out.append(z.log_softmax(dim=ax) if torch_ else _sp.log_softmax(z, axis=ax))
    return out, ax, torch_


def _p_times(logp: Any, x: Any, torch_: bool) -> Any:
    """exp(logp) * x, with 0 wherever the probability underflows to 0 (no 0 * inf = NaN)."""
    p = logp.exp() if torch_ else np.exp(logp)
    pos = p > 0
    x_safe = _where(pos, x, 0.0 * x if torch_ else 0.0, torch_)
    with _np_errstate():
        return p * x_safe


def entropy_from_logits(
    logits: ArrayLike, *, axis: int = -1, base: Any = None, temperature: float = 1.0
) -> Any:
    r"""Entropy of :math:`p = \operatorname{softmax}(z/T)`, computed in log space.

    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad \log p = z/T - \operatorname{logsumexp}(z/T).

    Finite for logits of :math:`\pm 10^4`; float16/bfloat16 give float32.
    Chapter ``ch-entropy`` (Entropy).
    """
    (lp,), ax, torch_ = _log_probs((logits,), ("logits",), axis, temperature)
    return _scale(0.0 - _sum(_p_times(lp, lp, torch_), ax, torch_), base)


def cross_entropy_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    temperature: float = 1.0,
) -> Any:
    r"""Cross-entropy :math:`H(p, q) = -\sum_i p_i \log q_i` with
    :math:`p = \operatorname{softmax}(z_p/T)`, :math:`q = \operatorname{softmax}(z_q/T)`.

    Computed in log space; float16/bfloat16 give float32.
    Chapter ``ch-cross-entropy`` (Cross-entropy).
    """
    (lp, lq), ax, torch_ = _log_probs(
        (p_logits, q_logits), ("p_logits", "q_logits"), axis, temperature
    )
    return _scale(0.0 - _sum(_p_times(lp, lq, torch_), ax, torch_), base)


def kl_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    temperature: float = 1.0,
) -> Any:
    r"""KL divergence :math:`D_{\mathrm{KL}}(p\|q) = \sum_i p_i (\log p_i - \log q_i)` with
    :math:`p = \operatorname{softmax}(z_p/T)`, :math:`q = \operatorname{softmax}(z_q/T)`.

    This is the knowledge-distillation term of Hinton et al. (2015) with ``p`` the teacher
    and ``q`` the student (the KD loss further multiplies by :math:`T^2`, see
    :mod:`klviz.losses`).  Computed in log space; float16/bfloat16 give float32.
    Chapter ``ch-kl`` (KL divergence, and chapter ``ch-kl-practice``, KL in practice).
    """
    (lp, lq), ax, torch_ = _log_probs(
        (p_logits, q_logits), ("p_logits", "q_logits"), axis, temperature
    )
    with _np_errstate():
        diff = lp - lq
    return _scale(_sum(_p_times(lp, diff, torch_), ax, torch_), base)


def js_divergence_from_logits(
    p_logits: ArrayLike,
    q_logits: ArrayLike,
    *,
    axis: int = -1,
    base: Any = None,
    temperature: float = 1.0,
) -> Any:
    r"""Jensen-Shannon divergence of :math:`p = \operatorname{softmax}(z_p/T)` and
    :math:`q = \operatorname{softmax}(z_q/T)`, with the mixture in log space:

    .. math:: \log m = \operatorname{logaddexp}(\log p, \log q) - \log 2.

    Float16/bfloat16 give float32.  Chapter ``ch-kl`` (KL divergence, symmetric alternatives).
    """
    (lp, lq), ax, torch_ = _log_probs(
        (p_logits, q_logits), ("p_logits", "q_logits"), axis, temperature
    )
    if torch_:
        import torch

        lm = torch.logaddexp(lp, lq) - _LN2
    else:
        lm = np.logaddexp(lp, lq) - _LN2
    with _np_errstate():
        a = _sum(_p_times(lp, lp - lm, torch_), ax, torch_)
        b = _sum(_p_times(lq, lq - lm, torch_), ax, torch_)
    return _scale(0.5 * a + 0.5 * b, base)


# ----------------------------------------------------------------------------- elementwise
def binary_entropy(p: ArrayLike, *, base: Any = None, validate: bool = True) -> Any:
    r"""Binary entropy, elementwise.

    .. math:: h(p) = -p \log p - (1 - p) \log (1 - p), \qquad h(0) = h(1) = 0,

    maximal at :math:`p = 1/2` where :math:`h = \log 2` (1 bit).
    Chapter ``ch-entropy`` (Entropy).
    With ``validate=True`` entries outside [0, 1] (or NaN) raise ValueError.
    """
    (pp,), torch_ = common(p)
    if validate:
        a = _detached_numpy(pp, torch_)
        if np.isnan(a).any() or (a < 0).any() or (a > 1).any():
            raise ValueError(
                "p must hold probabilities in [0, 1] (no NaN) for binary_entropy; "
                f"got values in [{np.nanmin(a) if a.size else 0}, {np.nanmax(a) if a.size else 0}]"
            )
    one = _ones_like(pp, torch_)
    h = 0.0 - (_plogp_over_q(pp, one, torch_) + _plogp_over_q(1.0 - pp, one, torch_))
    return _scale(h, base)


def _check_no_nan(x: Any, name: str, torch_: bool) -> None:
    if np.isnan(_detached_numpy(x, torch_)).any():
        raise ValueError(f"{name} contains NaN; check the encoder's outputs before computing the KL")


def _check_positive(x: Any, name: str, torch_: bool) -> None:
    a = _detached_numpy(x, torch_)
    if np.isnan(a).any() or (a <= 0).any():
        raise ValueError(
            f"{name} must be > 0 (a standard deviation, not a variance or log-variance); "
            f"got min {np.nanmin(a) if a.size else 'n/a'}"
            + (" and NaN" if np.isnan(a).any() else "")
        )


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
    (m1, s1, m2, s2), torch_ = common(mu1, sigma1, mu2, sigma2)
    _check_no_nan(m1, "mu1", torch_)
    _check_no_nan(m2, "mu2", torch_)
    _check_positive(s1, "sigma1", torch_)
    _check_positive(s2, "sigma2", torch_)
    try:
        shape = np.broadcast_shapes(*(tuple(x.shape) for x in (m1, s1, m2, s2)))
    except ValueError:
        raise ValueError(
            "mu1, sigma1, mu2, sigma2 have shapes "
            f"{[tuple(x.shape) for x in (m1, s1, m2, s2)]} that do not broadcast"
        ) from None
    ratio = s1 / s2
    # -log(ratio) + (ratio^2 - 1)/2 is the same as the textbook form, written in the one ratio
    # so that sigma1 = sigma2 gives exactly the squared-mean term.
    kl = -_log(ratio, torch_) + 0.5 * (ratio * ratio - 1.0) + 0.5 * ((m1 - m2) / s2) ** 2
    if axis is not None:
        ax = normalize_axis(axis, len(shape), "mu1 (broadcast)")
        if tuple(kl.shape) != shape:
            kl = kl.expand(shape) if torch_ else np.broadcast_to(kl, shape)
        kl = _sum(kl, ax, torch_)
    return kl


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
    (m, lv), torch_ = common(mu, logvar)
    try:
        shape = np.broadcast_shapes(tuple(m.shape), tuple(lv.shape))
    except ValueError:
        raise ValueError(
            f"mu with shape {tuple(m.shape)} and logvar with shape {tuple(lv.shape)} "
            f"do not broadcast"
        ) from None
    _check_no_nan(m, "mu", torch_)
    _check_no_nan(lv, "logvar", torch_)
    em1 = lv.expm1() if torch_ else np.expm1(lv)
    terms = 0.5 * (m * m + em1 - lv)
    if axis is None:
        return terms
    ax = normalize_axis(axis, len(shape), "mu")
    if tuple(terms.shape) != shape:
        terms = terms.expand(shape) if torch_ else np.broadcast_to(terms, shape)
    return _sum(terms, ax, torch_)
