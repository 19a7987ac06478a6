r"""From logits to probabilities: softmax and log-softmax with temperature (numpy and torch).

Also :func:`log_probs`, the validated log-space entry point of every ``*_from_logits``
measure: logits are turned into log-probabilities with ``log_softmax`` (a shift by the
maximum, never exp-then-log), so logits of :math:`\pm 10^4` stay finite.
"""

from __future__ import annotations

from typing import Any

from scipy import special as _sp

from klviz import _checks as checks
from klviz._backend import common
from klviz.info._validate import broadcast, finite_logits

__all__ = ["softmax", "log_softmax", "log_probs"]

ArrayLike = Any  # numpy array, torch tensor, list or scalar


def _scaled(z: Any, temperature: Any) -> Any:
    # the caller checked ``temperature``; divide by the given object, not its float, so that
    # a 0-d tensor temperature keeps its gradient
    return z / temperature if temperature != 1.0 else z


def _scaled_logits(logits: Any, axis: Any, temperature: Any) -> tuple[Any, int, bool]:
    """``(z / T, axis, torch_)`` for one logit array, its arguments checked."""
    checks.temperature(temperature)
    (z,), torch_ = common(logits, names=("logits",))
    ax = checks.axis(axis, z.ndim, of="logits")
    finite_logits(z, "logits", torch_)  # NaN or +inf would give a NaN distribution
    return _scaled(z, temperature), ax, torch_


def log_softmax(logits: ArrayLike, *, axis: int = -1, temperature: float = 1.0) -> Any:
    r"""Log-softmax with temperature, computed stably (shift by the maximum / logsumexp).

    .. math:: \log \operatorname{softmax}(z/T)_i = z_i/T - \log \sum_j e^{z_j/T}

    Chapter ``ch-probability`` (Probability and softmax).  float16/bfloat16 tensors give float32.
    """
    z, ax, torch_ = _scaled_logits(logits, axis, temperature)
    if torch_:
        return z.log_softmax(dim=ax)
    return _sp.log_softmax(z, axis=ax)


def softmax(logits: ArrayLike, *, axis: int = -1, temperature: float = 1.0) -> Any:
    r"""Softmax with temperature :math:`T > 0` (Bridle 1990; the temperature of Hinton et al. 2015).

    .. math:: \operatorname{softmax}(z/T)_i = \frac{e^{z_i/T}}{\sum_j e^{z_j/T}}

    Large :math:`T` flattens the distribution towards uniform, :math:`T \to 0` approaches
    the one-hot arg-max.  Chapter ``ch-probability`` (Probability and softmax).
    float16/bfloat16 tensors give float32.
    """
    z, ax, torch_ = _scaled_logits(logits, axis, temperature)
    if torch_:
        return z.softmax(dim=ax)
    return _sp.softmax(z, axis=ax)


def log_probs(
    logits: tuple[Any, ...], names: tuple[str, ...], axis: Any, temperature: Any
) -> tuple[list[Any], int, bool]:
    r"""Log-probabilities :math:`\log \operatorname{softmax}(z/T)` of one or two logit arrays.

    Converts them to one kind (numpy or torch), broadcasts a pair, checks ``axis``,
    ``temperature`` and that no logit is NaN or :math:`+\infty` (:math:`-\infty` means
    probability 0).  Returns ``(log_probs, axis, torch_)``.
    """
    checks.temperature(temperature)
    zs, torch_ = common(*logits, names=names)
    if len(zs) == 2:
        zs = list(broadcast(zs[0], zs[1], torch_, names))
    ax = checks.axis(axis, zs[0].ndim, of=names[0])
    out = []
    for z, name in zip(zs, names):
        finite_logits(z, name, torch_)
        z = _scaled(z, temperature)
        out.append(z.log_softmax(dim=ax) if torch_ else _sp.log_softmax(z, axis=ax))
    return out, ax, torch_
