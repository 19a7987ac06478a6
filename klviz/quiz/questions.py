"""Self-check questions: a numeric answer with a tolerance, or one right option.

A question is declared once, in a hidden cell of its chapter, with the value the chapter
computed (``numeric("q-ent-coin", "...", h_coin, tol=0.005, hint=...)``); the web page
checks it in the browser (:mod:`klviz.quiz.web`) and :func:`grade` checks it in Python with
the same rule, so the two agree by construction (``tests/quiz`` runs both).  See
``ch-entropy`` for a chapter that uses them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from klviz import _checks

__all__ = ["Numeric", "Choice", "numeric", "choice", "grade", "parse_number"]

ID = re.compile(r"^q-[a-z0-9]+(?:-[a-z0-9]+)*$")
# 1e-9 of the tolerance: a typed decimal that sits exactly on the boundary still counts
EDGE = 1e-9


def _question_id(qid: Any) -> str:
    if not isinstance(qid, str):
        raise TypeError(f"qid must be a str like 'q-ent-coin', got {type(qid).__name__}")
    if not ID.match(qid):
        raise ValueError(f"qid: {qid!r} is not of the form 'q-<chapter>-<topic>' "
                         "(lower-case letters, digits and hyphens)")
    return qid


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name}: write the {name} (it is empty)")
    return value.strip()


def _shows(hint: str, shown: str) -> bool:
    # a number counts as shown when it stands alone (not inside a longer number)
    return re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d)", hint) is not None


@dataclass(frozen=True)
class Numeric:
    """A question answered by a number within ``tol`` of ``value``."""

    qid: str
    text: str
    value: float
    tol: float
    hint: str
    unit: str = ""


@dataclass(frozen=True)
class Choice:
    """A question answered by picking the option ``options[answer]``."""

    qid: str
    text: str
    options: tuple[str, ...]
    answer: int
    hint: str


def numeric(qid: str, text: str, value: Any, *, tol: float, hint: str, unit: str = "") -> Numeric:
    """A numeric question: right when ``|x - value| <= tol``.

    ``value`` is the number the chapter computed (a float, numpy or torch scalar), never a
    typed copy; say in ``text`` how precise an answer must be ("to two decimals" for
    ``tol=0.005``). The hint must not contain the answer (checked to 2-4 decimals).
    """
    v = _checks.finite(value, "value", hint="pass the value the chapter computed")
    t = _checks.positive(tol, "tol", hint="an absolute tolerance, e.g. 0.005 for two decimals")
    hint = _text(hint, "hint")
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a str (e.g. 'bits'), got {type(unit).__name__}")
    for shown in {f"{v:.{d}f}" for d in (2, 3, 4)} | {f"{v:g}"}:
        if float(shown) != 0 and _shows(hint, shown):
            raise ValueError(f"hint: it shows the answer {shown}; hint at the method instead")
    return Numeric(_question_id(qid), _text(text, "text"), v, t, hint, unit)


def choice(qid: str, text: str, options: Sequence[str], *, answer: int, hint: str) -> Choice:
    """A multiple-choice question: right when the reader picks ``options[answer]``."""
    if isinstance(options, str) or not isinstance(options, Sequence):
        raise TypeError(f"options must be a list of str, got {type(options).__name__}")
    opts = tuple(_text(o, f"options[{i}]") for i, o in enumerate(options))
    if len(opts) < 2 or len(set(opts)) != len(opts):
        raise ValueError(f"options: give at least two different options, got {list(opts)}")
    a = _checks.integer(answer, "answer", low=0, high=len(opts) - 1,
                        hint="the index of the right option in options")
    hint = _text(hint, "hint")
    if len(opts[a]) > 3 and opts[a].lower() in hint.lower():
        raise ValueError(f"hint: it names the right option {opts[a]!r}; hint at the idea instead")
    return Choice(_question_id(qid), _text(text, "text"), opts, a, hint)


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TYPED = re.compile(rf"^({_NUMBER})(?:\s*/\s*({_NUMBER}))?$")


def parse_number(typed: str) -> float | None:
    """A typed answer as a float (``0.25``, ``-1e-3``, ``1/4``, a comma as decimal mark);
    ``None`` when it is not a number. The same rule as the browser's (static/klviz-quiz.js)."""
    s = typed.strip().replace("\u2212", "-")
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    m = _TYPED.match(s)
    if not m:
        return None
    x = float(m[1])
    if m[2] is not None:
        d = float(m[2])
        if d == 0:
            return None
        x /= d
    return x if math.isfinite(x) else None


def grade(question: Numeric | Choice, answer: Any) -> str:
    """``"right"``, ``"wrong"`` or ``"invalid"`` (not a number / no option), as the browser
    grades: a number or typed text for :class:`Numeric`, an option index for :class:`Choice`."""
    if isinstance(question, Numeric):
        x = parse_number(answer) if isinstance(answer, str) else answer
        if x is None or isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            return "invalid"
        return "right" if abs(x - question.value) <= question.tol * (1 + EDGE) else "wrong"
    if isinstance(question, Choice):
        if isinstance(answer, bool) or not isinstance(answer, int):
            return "invalid"
        return "right" if answer == question.answer else "wrong"
    raise TypeError(f"question must be a Numeric or Choice, got {type(question).__name__}")
