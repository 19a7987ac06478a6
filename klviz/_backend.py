"""Small numpy / torch dispatch helpers shared by :mod:`klviz.info` (and anyone else).

The measures in :mod:`klviz.info` accept numpy arrays, torch tensors, Python lists and
scalars.  These helpers decide which library computes, convert the other arguments to
match, and give one spelling for the few operations whose numpy and torch names differ.
Argument checks (axis, logarithm base, temperature) live in :mod:`klviz._checks`.

torch is imported lazily (only when a tensor is actually passed), so ``import klviz.info``
stays cheap for numpy-only users.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = [
    "is_tensor",
    "as_float",
    "common",
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
