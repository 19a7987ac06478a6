"""One validation policy for every public function of :mod:`klviz`.

- A value of the wrong *type* (a string where a number belongs, a list where a tensor
  belongs) raises :class:`TypeError`.
- A value of the right type but outside what the function accepts (a negative
  temperature, an unknown reduction, a mask of the wrong shape) raises :class:`ValueError`.
- Every message names the argument, shows what was given and says how to fix it.

Each check returns the cleaned value (``float``/``int``/``str``) so a caller writes
``t = checks.positive(temperature, "temperature")`` once, at the top of the function.
The scalar checks are cheap Python: they never touch array data (only :func:`vector` does),
so they cost nothing on the hot path of a loss (array contents are checked by the functions that own them, e.g.
:func:`klviz.info.entropy` for probability vectors).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

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
    "vector",
    "probability_vector",
    "axis",
    "log_base",
]


class ConfigError(ValueError):
    """A bad setting of a trainer or a CLI flag (a ``ValueError``, so callers may catch either)."""


def _dtype_kind(value: Any) -> str:
    """``"f"``/``"i"`` for a 0-d numpy array or torch tensor of a real float/int dtype, else ``""``."""
    shape = getattr(value, "shape", None)
    if shape is None or tuple(shape) != ():
        return ""
    # one spelling for both libraries: numpy "float64", "uint8"; torch "torch.bfloat16", "torch.int64"
    dtype = str(getattr(value, "dtype", "")).removeprefix("torch.")
    if dtype.startswith(("float", "bfloat")):
        return "f"
    return "i" if dtype.startswith(("int", "uint")) else ""


def _is_real(value: Any) -> bool:
    # numpy scalars and 0-d arrays/tensors of a real dtype are accepted through __float__; bool
    # (Python, numpy or torch) is not a number here, nor is a complex, string or object 0-d array
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    return _dtype_kind(value) != "" and hasattr(value, "__float__")


def _is_integral(value: Any) -> bool:
    # Python and numpy ints, and 0-d integer arrays/tensors; never bool
    if type(value) is int:  # the common case, without the ABC check
        return True
    if isinstance(value, bool):
        return False
    return isinstance(value, numbers.Integral) or _dtype_kind(value) == "i"


def number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
           hint: str = "") -> float:
    """``value`` as a float, checked against ``[low, high]`` (``low_open``/``high_open`` exclude ends).

    >>> number(0.5, "alpha", low=0, high=1)
    0.5
    """
    # plain floats and ints first, without the ABC checks: losses check their settings on every call
    if type(value) is float:
        v = value
    else:
        raw = value
        if type(value) is not int:
            if not _is_real(value):
                raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})"
                                + (f"; {hint}" if hint else ""))
            # a 0-d tensor gives its value without autograd's warning about a scalar conversion
            raw = value.detach() if hasattr(value, "detach") else value
        try:
            v = float(raw)
        except OverflowError:  # an int too large for a float: it is out of any finite range
            v = math.inf if value > 0 else -math.inf
    if not math.isfinite(v) and (not allow_inf or math.isnan(v)):
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
    if not _is_integral(value):
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


def vector(value: Any, name: str, *, min_size: int = 1, increasing: bool = False,
           positive: bool = False, hint: str = "") -> np.ndarray:
    """``value`` as a 1-D float64 numpy array of finite numbers with at least ``min_size`` entries.

    ``increasing`` demands strictly increasing entries (a grid), ``positive`` entries > 0 (a
    grid of temperatures).  Unlike the scalar checks this one reads the data, so it belongs in
    set-up code (figure data, fitting grids), not on the hot path of a loss.
    """
    try:
        raw = np.asarray(value)
        # bools, complex numbers and strings are not numbers here, nor is None in an object array
        if raw.dtype.kind not in "iufO" or (raw.dtype.kind == "O" and not all(map(_is_real, raw.flat))):
            raise TypeError
        v = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {type(value).__name__}"
                        + (f"; {hint}" if hint else "")) from None
    if v.ndim != 1 or v.size < min_size:
        raise ValueError(f"{name} must be a 1-D sequence of at least {min_size} numbers, got shape {v.shape}"
                         + (f"; {hint}" if hint else ""))
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must hold finite numbers (no NaN or inf)" + (f"; {hint}" if hint else ""))
    if positive and (v <= 0).any():
        raise ValueError(f"{name} must hold numbers > 0, got {v.min()!r} among them" + (f"; {hint}" if hint else ""))
    if increasing and not np.all(np.diff(v) > 0):
        raise ValueError(f"{name} must be strictly increasing" + (f"; {hint}" if hint else ""))
    return v


def probability_vector(value: Any, name: str, *, atol: float = 1e-6) -> np.ndarray:
    """``value`` as a 1-D float64 probability vector: finite entries >= 0 summing to 1 within ``atol``.

    >>> probability_vector([0.25, 0.75], "p")
    array([0.25, 0.75])
    """
    v = vector(value, name)
    if (v < 0).any():
        raise ValueError(f"{name} must hold probabilities >= 0, got {float(v.min())!r} among them")
    if abs(v.sum() - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1 (within {atol:g}), got {float(v.sum())!r}; "
                         f"normalise it with {name} / {name}.sum()")
    return v


def axis(value: Any, ndim: int, *, of: str, name: str = "axis") -> int:
    """``value`` as an axis of an array ``of`` with ``ndim`` dimensions, in ``[0, ndim)``.

    Negative axes count from the end, as in numpy.  A 0-d array has no axis to reduce, which
    is a ValueError naming the array ``of``.
    """
    if not _is_integral(value):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    ax = int(value)
    if ndim == 0:
        raise ValueError(f"{of} is a scalar (0 dimensions); pass a vector of probabilities/logits "
                         f"with at least one dimension")
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name}={ax} is out of range for {of} with {ndim} dimension(s); "
                         f"use {name} in [{-ndim}, {ndim - 1}]")
    return ax % ndim


def log_base(value: Any, name: str = "base") -> float:
    """The natural log of a logarithm's base: the divisor that turns nats into that unit.

    ``None`` or ``"e"`` -> 1.0 (nats); ``2`` -> ln 2 (bits); ``10`` -> ln 10 (hartleys); any
    finite number > 0 other than 1.  Another string is a ValueError; a bool, a list or
    another non-number is a TypeError.
    """
    hint = 'use None or "e" (nats), 2 (bits), or another number > 0 other than 1'
    if value is None or (isinstance(value, str) and value == "e"):
        return 1.0
    if isinstance(value, str):
        raise ValueError(f"{name} must be None, \"e\" or a number, got {value!r}; {hint}")
    b = positive(value, name, hint=hint)
    if b == 1.0:
        raise ValueError(f"{name} must not be 1 (log 1 = 0), got {value!r}; {hint}")
    return math.log(b)
