"""Small numpy / torch dispatch helpers shared by :mod:`klviz.info` (and anyone else).

The measures in :mod:`klviz.info` accept numpy arrays, torch tensors, Python lists and
scalars.  These helpers decide which library computes, convert the other arguments to
match, and give one spelling for the few operations whose numpy and torch names differ.
Argument checks (axis, logarithm base, temperature) live in :mod:`klviz._checks`.

torch is imported lazily (only when a tensor is actually passed), so ``import klviz.info``
stays cheap for numpy-only users.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


def _not_real(arr: np.ndarray) -> bool:
    # bools count as 0/1 (as numpy casts them); an object array must hold real numbers only
    if arr.dtype.kind in "biuf":
        return False
    if arr.dtype.kind == "O":
        return not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in arr.flat)
    return True


def as_float(x: Any, *, like: Any = None, name: str = "the input") -> Any:
    """Return ``x`` as a floating array of the right kind.

    - torch tensors stay tensors (autograd kept); integer/bool tensors become the default
      float dtype; float16/bfloat16 become float32, because sums of many half-precision
      terms lose too many digits.
    - when ``like`` is a tensor, anything else becomes a tensor on its device and dtype.
    - everything else becomes a numpy array; float32 stays float32, float16 becomes float32,
      other input (lists, ints, float64) becomes float64.

    Complex numbers, strings and other non-numbers raise a TypeError naming ``name``.
    """
    if is_tensor(x):
        torch = _torch()
        if x.is_complex():
            raise TypeError(f"{name} is a complex tensor ({x.dtype}); pass real numbers")
        if not torch.is_floating_point(x):
            return x.to(torch.get_default_dtype())
        if str(x.dtype).split(".")[-1] in LOW_PRECISION:
            return x.float()
        return x
    if like is not None and is_tensor(like):
        torch = _torch()
        return torch.as_tensor(as_float(x, name=name), dtype=like.dtype, device=like.device)
    arr = np.asarray(x)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if arr.dtype == np.float16:
        return arr.astype(np.float32)
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} holds complex numbers; pass real numbers")
    if _not_real(arr):
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}; "
                        f"pass numbers (a list, a numpy array or a torch tensor)")
    return arr.astype(np.float64)


def common(*xs: Any, names: tuple[str, ...] | None = None) -> tuple[list[Any], bool]:
    """Convert all arguments to one kind: tensors if any argument is a tensor, else numpy.

    Returns ``(converted, is_torch)``.  With tensors, the result dtype is the promoted float
    dtype of the tensor arguments (after half -> float32), on the first tensor's device.
    ``names`` (one per argument) name them in the TypeError a non-number raises.
    """
    if names is None:
        names = tuple(f"argument {i + 1}" for i in range(len(xs)))
    if not any(is_tensor(x) for x in xs):
        return [as_float(x, name=n) for x, n in zip(xs, names)], False
    torch = _torch()
    # each tensor converted once; the others wait for the common dtype and device
    conv = [as_float(x, name=n) if is_tensor(x) else None for x, n in zip(xs, names)]
    tensors = [c for c in conv if c is not None]
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    device = tensors[0].device
    out = [
        c.to(dtype) if c is not None else torch.as_tensor(as_float(x, name=n), dtype=dtype, device=device)
        for c, x, n in zip(conv, xs, names)
    ]
    return out, True


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads and restore the previous number afterwards.

    The chapters' tiny models (a linear student, a 16-unit critic, a small VAE) train much faster
    on one thread than on two: thread start-up and contention cost more than they save (5-50x
    on a busy 2-core machine, measured). The numbers do not depend on it.
    """
    torch = _torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
