"""Checks of the *contents* of the arrays the measures of :mod:`klviz.info` receive.

Scalar arguments (``axis``, ``base``, ``temperature``, ``atol``) are checked by
:mod:`klviz._checks`; this module checks array data: probability vectors, finite logits,
NaN-free means, positive standard deviations, shapes that broadcast.  Every failure is a
``ValueError`` that names the argument and says how to fix it.  The checks look at detached
values, so they work under autograd.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from klviz import _checks as checks
from klviz._backend import common
from klviz.info._terms import detached_numpy

__all__ = [
    "broadcast",
    "broadcast_shape",
    "probabilities",
    "prepare",
    "finite_logits",
    "no_nan",
    "positive_values",
    "unit_interval",
]


def broadcast_shape(arrays: tuple[Any, ...], names: tuple[str, ...]) -> tuple[int, ...]:
    """The common shape of ``arrays``, or a ValueError naming them and their shapes."""
    shapes = [tuple(x.shape) for x in arrays]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        if len(arrays) == 2:
            msg = (f"{names[0]} with shape {shapes[0]} and {names[1]} with shape {shapes[1]} "
                   f"do not broadcast")
        else:
            msg = f"{', '.join(names)} have shapes {shapes} that do not broadcast"
        raise ValueError(msg + "; give them the same shape (or shapes numpy can broadcast)") from None


def broadcast(p: Any, q: Any, torch_: bool, names: tuple[str, str] = ("p", "q")) -> tuple[Any, Any]:
    """``p`` and ``q`` expanded to their common shape (views, no copies)."""
    shape = broadcast_shape((p, q), names)
    if tuple(p.shape) == tuple(q.shape):
        return p, q
    if torch_:
        return p.expand(shape), q.expand(shape)
    return np.broadcast_to(p, shape), np.broadcast_to(q, shape)


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def probabilities(
    x: Any, name: str, axis: int, atol: float, torch_: bool, shown_axis: Any = None
) -> None:
    """Raise a ValueError naming ``name`` unless ``x`` holds probability vectors on ``axis``.

    A vector passes if its entries are finite and >= 0 and its sum is within
    ``max(atol, n * eps)`` of 1 (``n`` its length, ``eps`` the machine epsilon of its dtype:
    the worst-case rounding error of adding ``n`` numbers).
    """
    n = x.shape[axis]
    if torch_ and n > 0:
        # fast path on the tensor's own device: one host sync for a bool, no copy; the
        # detailed (numpy) diagnosis below runs only when something is wrong
        import torch  # noqa: PLC0415

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
    a = detached_numpy(x, torch_)
    if np.isnan(a).any():
        raise ValueError(
            f"{name} contains NaN (first at index {_first(np.isnan(a))}); check how {name} was computed"
        )
    if np.isinf(a).any():
        raise ValueError(
            f"{name} contains an infinite entry (first at index {_first(np.isinf(a))}); "
            f"probabilities are in [0, 1]"
        )
    if (a < 0).any():
        idx = _first(a < 0)
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
        row = _first(bad) if sums.ndim else ()
        s = float(sums[row]) if sums.ndim else float(sums)
        where = f"row {row}" if row else "it"
        raise ValueError(
            f"{name} must sum to 1 along axis {shown}, but {where} sums to {s:.6g} "
            f"(tolerance {tol:.1e}, {int(bad.sum())} bad row(s)); normalise it "
            f"({name} / {name}.sum(axis={shown}, keepdims=True)) or, from logits, use "
            f"softmax(logits) or the *_from_logits functions"
        )


def prepare(
    arrays: tuple[Any, ...], names: tuple[str, ...], axis: Any, atol: Any, validate: bool
) -> tuple[list[Any], int, bool]:
    """Convert probability arrays to one kind, broadcast a pair, check ``axis`` and (with
    ``validate``) the probability vectors.  Returns ``(arrays, axis, torch_)``."""
    converted, torch_ = common(*arrays, names=names)
    if len(converted) == 2:
        converted = list(broadcast(converted[0], converted[1], torch_, names))
    ax = checks.axis(axis, converted[0].ndim, of=names[0])
    if validate:
        tol = checks.nonnegative(atol, "atol", hint="the tolerance on the sum of each row, e.g. 1e-6")
        for x, nm in zip(converted, names):
            probabilities(x, nm, ax, tol, torch_, shown_axis=axis)
    return converted, ax, torch_


def finite_logits(z: Any, name: str, torch_: bool) -> None:
    """Logits may be -inf (probability 0) but never NaN or +inf."""
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


def no_nan(x: Any, name: str, torch_: bool) -> None:
    if np.isnan(detached_numpy(x, torch_)).any():
        raise ValueError(f"{name} contains NaN; pass finite numbers (a NaN here comes from the computation "
                         f"that produced {name}, e.g. an encoder's output)")


def positive_values(x: Any, name: str, torch_: bool) -> None:
    """Standard deviations: every entry > 0 (and none NaN)."""
    a = detached_numpy(x, torch_)
    if np.isnan(a).any() or (a <= 0).any():
        raise ValueError(
            f"{name} must be > 0 (a standard deviation, not a variance or log-variance); "
            f"got min {np.nanmin(a) if a.size else 'n/a'}"
            + (" and NaN" if np.isnan(a).any() else "")
        )


def unit_interval(x: Any, name: str, torch_: bool, *, who: str) -> None:
    """Every entry in [0, 1] (and none NaN): elementwise probabilities."""
    a = detached_numpy(x, torch_)
    if np.isnan(a).any() or (a < 0).any() or (a > 1).any():
        raise ValueError(
            f"{name} must hold probabilities in [0, 1] (no NaN) for {who}; "
            f"got values in [{np.nanmin(a) if a.size else 0}, {np.nanmax(a) if a.size else 0}]"
        )
