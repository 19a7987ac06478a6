r"""Example data the chapters share, defined once.

- :data:`TEN_CLASS_LOGITS` -- the 10-class logits (digits 0-9) of the running example of
  ``ch-probability``; ``ch-entropy`` reuses them and ``ch-kl-practice`` takes them as the
  teacher of its distillation example.
- :data:`KD_STUDENT_LOGITS` -- the student of that distillation example (``ch-kl-practice``).
- :data:`DKL_TEACHER_LOGITS`, :data:`DKL_STUDENT_LOGITS` -- the six-class running example of
  ``ch-dkl`` and ``ch-gkl``: a confident teacher :math:`o_m` and a student :math:`o_n` that
  ranks classes 0 and 1 the wrong way round.
- :data:`GKL_CLASS_MEAN` -- a per-class mean teacher distribution for that example's label
  (class 0), the class-wise weights of GKL (``ch-gkl``).
"""

from __future__ import annotations

__all__ = [
    "TEN_CLASS_LOGITS",
    "KD_STUDENT_LOGITS",
    "DKL_TEACHER_LOGITS",
    "DKL_STUDENT_LOGITS",
    "GKL_CLASS_MEAN",
]

#: The 10-class logits of the source chapter's running example (digits 0-9).
TEN_CLASS_LOGITS: tuple[float, ...] = (2.1, 0.5, -1.2, 3.4, 0.8, -0.5, 1.1, -2.0, 0.3, 1.8)
#: A student that agrees with :data:`TEN_CLASS_LOGITS` on the top class but ranks the others
#: differently (the distillation example of ``ch-kl-practice``).
KD_STUDENT_LOGITS: tuple[float, ...] = (1.0, 1.2, -0.4, 2.2, -0.3, 0.4, 0.2, -1.0, 0.9, 0.6)
#: The running example of ``ch-dkl``: six classes, a confident teacher ``o_m`` ...
DKL_TEACHER_LOGITS: tuple[float, ...] = (4.0, 2.5, 1.0, 0.0, -1.0, -2.0)
#: ... and a student ``o_n`` that ranks classes 0 and 1 the wrong way round.
DKL_STUDENT_LOGITS: tuple[float, ...] = (1.5, 2.8, 0.5, 1.2, -0.5, -1.5)
#: A per-class mean teacher distribution for the running example's label (class 0). At T = 4 it
#: is more peaked on the label than this one sample's softened teacher output (0.46 against about
#: 0.33): the sample is a hard one, less typical of its class than the class average.
GKL_CLASS_MEAN: tuple[float, ...] = (0.46, 0.20, 0.14, 0.10, 0.06, 0.04)
