"""Small numpy / torch dispatch helpers shared by :mod:`klviz.info` (and anyone else).

The measures in :mod:`klviz.info` accept numpy arrays, torch tensors, Python lists and
scalars.  These helpers decide which library computes, convert the other arguments to
match, and give one spelling for the few operations whose numpy and torch names differ.

torch is imported lazily (only when a tensor is actually passed), so ``import klviz.info``
stays cheap for numpy-only users.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = [
    "is_tensor",
    "as_float",
    "common",
    "normalize_axis",
    "check_finite_number",
    "log_base",
    "LOW_PRECISION",
]

#: torch dtype names that are computed in float32 internally.
LOW_PRECISION = ("float16", "bfloat16")


def _torch():
    import torch  # noqa: PLC0415 - deliberately lazy

    return torch


def is_tensor(x: Any) -> bool:
    """True if ``x`` is a ``torch.Tensor`` (without importing torch if nobody else has)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def as_float(x: Any, *, like: Any = None) -> Any:
    """Return ``x`` as a floating array of the right kind.

    - torch tensors stay tensors (autograd kept); integer/bool tensors become the default
      float dtype; float16/bfloat16 become float32, because sums of many half-precision
      terms lose too many digits.
    - when ``like`` is a tensor, anything else becomes a tensor on its device and dtype.
    - everything else becomes a numpy array; float32 stays float32, float16 becomes float32,
      other input (lists, ints, float64) becomes float64.
    """
    if is_tensor(x):
        torch = _torch()
        if not torch.is_floating_point(x):
            return x.to(torch.get_default_dtype())
        if str(x.dtype).split(".")[-1] in LOW_PRECISION:
            return x.float()
        return x
    if like is not None and is_tensor(like):
        torch = _torch()
        return torch.as_tensor(np.asarray(x), dtype=like.dtype, device=like.device)
    arr = np.asarray(x)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if arr.dtype == np.float16:
        return arr.astype(np.float32)
    if np.iscomplexobj(arr):
        raise TypeError("complex input is not supported; pass real numbers")
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected real numbers, got an array of dtype {arr.dtype}") from err


def common(*xs: Any) -> tuple[list[Any], bool]:
    """Convert all arguments to one kind: tensors if any argument is a tensor, else numpy.

    Returns ``(converted, is_torch)``.  With tensors, the result dtype is the promoted float
    dtype of the tensor arguments (after half -> float32), on the first tensor's device.
    """
    tensors = [x for x in xs if is_tensor(x)]
    if not tensors:
        return [as_float(x) for x in xs], False
    torch = _torch()
    converted_t = [as_float(t) for t in tensors]
    dtype = converted_t[0].dtype
    for t in converted_t[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    device = converted_t[0].device
    out = []
    for x in xs:
        if is_tensor(x):
            out.append(as_float(x).to(dtype))
        else:
            out.append(torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=dtype, device=device))
    return out, True


def normalize_axis(axis: Any, ndim: int, name: str) -> int:
    """Return ``axis`` as a non-negative int, or raise a ValueError naming ``name``."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ValueError(
            f"{name} is a scalar (0 dimensions); pass a vector of probabilities/logits "
            f"with at least one dimension"
        )
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"axis={axis} is out of range for {name} with {ndim} dimension(s); "
            f"use an axis in [{-ndim}, {ndim - 1}]"
        )
    return int(axis) % ndim


def check_finite_number(value: Any, name: str, *, positive: bool = True) -> float:
    """Check that ``value`` is a finite (positive) real number and return it as float."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a real number, got {value!r}") from err
    if not math.isfinite(v) or (positive and v <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def log_base(base: Any) -> float:
    """Natural log of ``base`` (the divisor that turns nats into the requested unit).

    ``None`` or ``"e"`` -> nats (1.0); ``2`` -> bits (ln 2); ``10`` -> hartleys (ln 10);
    any positive number other than 1.  Anything else raises ValueError.
    """
    if base is None or (isinstance(base, str) and base == "e"):
        return 1.0
    if isinstance(base, str) or isinstance(base, bool):
        raise ValueError(
            f'base must be None or "e" (nats), 2 (bits), or another positive number '
            f"other than 1, got {base!r}"
        )
    try:
        b = float(base)
    except (TypeError, ValueError) as err:
        raise ValueError(f"base must be a positive number other than 1, got {base!r}") from err
    if not math.isfinite(b) or b <= 0 or b == 1:
        raise ValueError(
            f'base must be None or "e" (nats), 2 (bits), or another positive number '
            f"other than 1, got {base!r}"
        )
    return math.log(b)
