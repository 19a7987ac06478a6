r"""Coercion of class-score (logit) vectors, shared by every function that takes example logits.

:func:`as_logits` turns a sequence into a 1-D float array of at least two finite class scores;
:func:`logit_pair` does it for a teacher and a student and checks they have the same number of
classes.  Both raise a ``ValueError`` naming the argument (the policy of :mod:`klviz._checks`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from klviz import _checks as checks

__all__ = ["as_logits", "logit_pair"]


def as_logits(logits: Sequence[float] | np.ndarray, name: str = "logits") -> np.ndarray:
    """``logits`` as a 1-D float64 array of at least 2 finite class scores :math:`z_1..z_C`."""
    return checks.vector(logits, name, min_size=2, hint="give one finite score per class")


def logit_pair(
    teacher_logits: Sequence[float] | np.ndarray, student_logits: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's and the student's logits through :func:`as_logits`, with equal class counts."""
    zt = as_logits(teacher_logits, "teacher_logits")
    zs = as_logits(student_logits, "student_logits")
    if zt.shape != zs.shape:
        raise ValueError(f"teacher_logits and student_logits need the same number of classes; "
                         f"got {zt.size} and {zs.size}")
    return zt, zs
