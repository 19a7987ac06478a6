"""Argument checks of the distillation losses (logits, mask, target, chunk size, reduction).

The scalar checks (temperature, finite weights, choices) are :mod:`klviz._checks`; this
module adds the ones that know the shape of a loss call. Every check is cheap Python on
the tensors' metadata (shape, dtype, device), except :func:`target`, which reads the
smallest and largest label of the kept rows (one synchronisation on a GPU). The policy is
the package's: ``TypeError`` only for a wrong type, ``ValueError`` naming the argument and
the fix otherwise.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from klviz import _checks

__all__ = ["REDUCTIONS", "logits", "reduction", "mask", "target", "chunk_size", "num_classes", "common"]

REDUCTIONS: tuple[str, ...] = ("batchmean", "sum", "mean", "none")


def logits(student_logits: Any, teacher_logits: Any) -> None:
    """Both logits are floating-point tensors of one shape ``(B, C)`` or ``(B, N, C)`` on one device."""
    for name, x in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor of logits, got dtype {x.dtype}; "
                             "convert it with .float()")
        if x.dim() not in (2, 3):
            raise ValueError(f"{name} must have shape (B, C) or (B, N, C), got shape {tuple(x.shape)}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student_logits and teacher_logits must have the same shape, got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    if student_logits.shape[-1] < 1:
        raise ValueError("the class dimension of the logits is empty")
    if student_logits.device != teacher_logits.device:
        raise ValueError(f"student_logits is on {student_logits.device} but teacher_logits is on "
                         f"{teacher_logits.device}; move both to one device")


def reduction(value: Any) -> str:
    """One of :data:`REDUCTIONS`."""
    if value not in REDUCTIONS:  # the common case costs one tuple lookup
        _checks.choice(value, "reduction", REDUCTIONS)
    return value


def mask(value: Any, lead: torch.Size, device: torch.device) -> Tensor | None:
    """``None`` or a bool tensor of shape ``lead`` (the logits' shape without the class axis)."""
    if value is None:
        return None
    if not isinstance(value, Tensor):
        raise TypeError(f"mask must be a bool torch.Tensor or None, got {type(value).__name__}")
    if value.dtype != torch.bool:
        raise ValueError(f"mask must have dtype torch.bool (True = keep the row), got {value.dtype}; "
                         "pass mask.bool() or (attention_mask == 1)")
    if value.shape != lead:
        raise ValueError(f"mask must have shape {tuple(lead)} (the logits' shape without the class "
                         f"dimension), got {tuple(value.shape)}")
    if value.device != device:
        raise ValueError(f"mask is on {value.device} but the logits are on {device}")
    return value


def target(value: Any, lead: torch.Size, classes: int, device: torch.device, kept: Tensor | None, *,
           who: str) -> Tensor:
    """Integer class indices of shape ``lead``, in ``[0, classes)`` on the rows ``kept`` by the mask."""
    if value is None:
        raise ValueError(f"{who} needs target (the ground-truth class indices, shape {tuple(lead)})")
    if not isinstance(value, Tensor):
        raise TypeError(f"target must be a torch.Tensor of class indices, got {type(value).__name__}")
    if value.dtype.is_floating_point or value.dtype == torch.bool or value.is_complex():
        raise ValueError(f"target must hold integer class indices (dtype torch.long), got {value.dtype}; "
                         "pass target.long() (not one-hot vectors)")
    if value.shape != lead:
        raise ValueError(f"target must have shape {tuple(lead)}, got {tuple(value.shape)}")
    if value.device != device:
        raise ValueError(f"target is on {value.device} but the logits are on {device}")
    rows = value if kept is None else value[kept]
    if rows.numel():
        lo, hi = torch.aminmax(rows)
        lo, hi = int(lo), int(hi)
        if lo < 0 or hi >= classes:
            raise ValueError(f"target values must lie in [0, {classes - 1}] on unmasked rows, got values "
                             f"in [{lo}, {hi}]; mask padded rows with mask=")
    return value


def chunk_size(value: Any) -> int | None:
    """``None`` or a positive int (rows per chunk)."""
    if value is None:
        return None
    return _checks.positive_int(value, "chunk_size", hint="rows per chunk, or None")


def num_classes(classes: int, low: int, who: str) -> None:
    """At least ``low`` classes (DKD needs a target and a non-target part)."""
    if classes < low:
        raise ValueError(f"{who} needs at least {low} classes (a target and a non-target part), got {classes}")


def common(student_logits: Any, teacher_logits: Any, temperature: Any, reduction_: Any, mask_: Any,
           chunk_size_: Any) -> tuple[float, str, Tensor | None, int | None]:
    """The checks every loss starts with; returns ``(T, reduction, mask, chunk_size)``."""
    logits(student_logits, teacher_logits)
    T = _checks.temperature(temperature)
    m = None if mask_ is None else mask(mask_, student_logits.shape[:-1], student_logits.device)
    return T, reduction(reduction_), m, chunk_size(chunk_size_)
