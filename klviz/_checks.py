"""One validation policy for every public function of :mod:`klviz`.

- A value of the wrong *type* (a string where a number belongs, a list where a tensor
  belongs) raises :class:`TypeError`.
- A value of the right type but outside what the function accepts (a negative
  temperature, an unknown reduction, a mask of the wrong shape) raises :class:`ValueError`.
- Every message names the argument, shows what was given and says how to fix it.

Each check returns the cleaned value (``float``/``int``/``str``) so a caller writes
``t = checks.positive(temperature, "temperature")`` once, at the top of the function.
The checks are cheap Python: they never touch array data, so they cost nothing on the hot
path of a loss (array contents are checked by the functions that own them, e.g.
:func:`klviz.info.entropy` for probability vectors).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

__all__ = [
    "ConfigError",
    "number",
    "finite",
    "positive",
    "nonnegative",
    "temperature",
    "fraction",
    "integer",
    "positive_int",
    "choice",
    "tensor",
]


class ConfigError(ValueError):
    """A bad setting of a trainer or a CLI flag (a ``ValueError``, so callers may catch either)."""


def _is_real(value: Any) -> bool:
    # numpy scalars and 0-d arrays/tensors are accepted through __float__; bool is not a number here
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    shape = getattr(value, "shape", None)
    return shape is not None and tuple(shape) == () and hasattr(value, "__float__")


def number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
           hint: str = "") -> float:
    """``value`` as a float, checked against ``[low, high]`` (``low_open``/``high_open`` exclude ends).

    >>> number(0.5, "alpha", low=0, high=1)
    0.5
    """
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})"
                        + (f"; {hint}" if hint else ""))
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a finite number, got {value!r}" + (f"; {hint}" if hint else ""))
    bad_low = low is not None and (v <= low if low_open else v < low)
    bad_high = high is not None and (v >= high if high_open else v > high)
    if bad_low or bad_high:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must lie in {lo}, {hi}, got {value!r}" + (f"; {hint}" if hint else ""))
    return v


def finite(value: Any, name: str, *, hint: str = "") -> float:
    """A finite real number."""
    return number(value, name, hint=hint)


def positive(value: Any, name: str, *, hint: str = "") -> float:
    """A finite real number > 0."""
    return number(value, name, low=0.0, low_open=True, hint=hint)


def nonnegative(value: Any, name: str, *, hint: str = "") -> float:
    """A finite real number >= 0."""
    return number(value, name, low=0.0, hint=hint)


def temperature(value: Any, name: str = "temperature") -> float:
    """A softmax temperature: a finite number > 0 (``T = 1`` is the plain softmax)."""
    return positive(value, name, hint="a softmax temperature, e.g. 1 or 4")


def fraction(value: Any, name: str, *, open_low: bool = False, open_high: bool = False,
             hint: str = "") -> float:
    """A number in [0, 1] (ends excluded on request)."""
    return number(value, name, low=0.0, high=1.0, low_open=open_low, high_open=open_high, hint=hint)


def integer(value: Any, name: str, *, low: int | None = None, high: int | None = None,
            hint: str = "") -> int:
    """``value`` as an int (bools and floats are rejected), checked against ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})"
                        + (f"; {hint}" if hint else ""))
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an int in [{lo}, {hi}], got {value!r}" + (f"; {hint}" if hint else ""))
    return v


def positive_int(value: Any, name: str, *, hint: str = "") -> int:
    """An int >= 1."""
    return integer(value, name, low=1, hint=hint)


def choice(value: Any, name: str, options: Iterable[Any]) -> Any:
    """``value`` if it is one of ``options``, else a ValueError listing them."""
    opts = tuple(options)
    if value not in opts:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, opts))}; got {value!r}")
    return value


def tensor(value: Any, name: str, *, floating: bool = False, dims: Iterable[int] | None = None,
           what: str = "") -> Any:
    """A ``torch.Tensor`` (optionally floating point, with one of ``dims`` dimensions)."""
    import torch  # noqa: PLC0415 - torch stays optional for numpy-only users

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{(' of ' + what) if what else ''}, "
                        f"got {type(value).__name__}; wrap arrays with torch.as_tensor")
    if floating and not value.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor{(' of ' + what) if what else ''}, "
                         f"got dtype {value.dtype}; convert it with .float()")
    if dims is not None:
        allowed = tuple(dims)
        if value.dim() not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, "
                             f"got shape {tuple(value.shape)}")
    return value
