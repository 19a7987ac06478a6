"""Answer checks in a notebook: ``check("ex-ent-dice", my_answer)`` says right or wrong.

The keys (``keys.json`` next to this module) hold, per exercise label, a salted SHA-256 digest
of the rounded answer (a number to ``sig`` significant digits) or of the right option's letter,
and a hint. A student edition therefore shows no answer, and ``check`` still works in it.

This deters casual peeking only: the digests of a few thousand rounded numbers are quick to
compute, so anyone who wants the answer can find it. Grade with :mod:`klviz.quiz.assign`
(hidden tests), not with these keys.

The instructor's side: ``python -m klviz.quiz key ex-ent-dice 2.585 --hint "..."`` writes a key,
and the chapter's solution asserts ``check("ex-ent-dice", value)`` on the value it computes
(in a hidden cell inside the solution, so the student edition does not carry it): a change in
the chapter that moves the answer fails the build.  See ``ch-entropy``.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klviz import _checks

__all__ = ["Feedback", "check", "make_key", "load_keys", "KEYS"]

KEYS = Path(__file__).resolve().parent / "keys.json"
EXERCISE = re.compile(r"^ex-[a-z0-9]+(?:-[a-z0-9]+)*$")
LETTERS = "abcdefghij"


def _digest(salt: str, label: str, canonical: str) -> str:
    return hashlib.sha256(f"{salt}|{label}|{canonical}".encode()).hexdigest()


def _canonical(x: float, sig: int) -> str:
    text = f"{x:.{sig - 1}e}"
    return text.replace("-", "") if float(text) == 0 else text  # no "-0.00e+00"


def _candidates(x: float, sig: int) -> set[str]:
    # the rounded answer and its neighbours one unit in the last digit away: a student's
    # 0.4689 and 0.4691 both match a key of 0.469 (sig 3) whatever side the rounding fell on
    if x == 0:
        return {_canonical(0.0, sig)}
    unit = 10.0 ** (math.floor(math.log10(abs(x))) - sig + 1)
    return {_canonical(x + k * unit, sig) for k in (-1, 0, 1)}


def make_key(label: str, answer: Any, *, hint: str, what: str = "", sig: int = 3,
             salt: str | None = None) -> dict:
    """The key of exercise ``label``: ``answer`` a number (rounded to ``sig`` significant digits)
    or an option letter ``"a"``-``"j"``; ``hint`` shown after a wrong answer (not the answer);
    ``what`` names the quantity asked for (the student edition's check cell quotes it)."""
    if not isinstance(label, str) or not EXERCISE.match(label):
        raise ValueError(f"label: {label!r} is not an exercise label like 'ex-ent-dice'")
    if not isinstance(hint, str) or not hint.strip():
        raise ValueError("hint: write a hint that points at the method without giving the answer")
    if not isinstance(what, str):
        raise TypeError(f"what must be a str naming the quantity asked for, got {type(what).__name__}")
    salt = salt or secrets.token_hex(8)
    if isinstance(answer, str):
        letter = _checks.choice(answer.strip().lower(), "answer", LETTERS)
        return {"kind": "choice", "what": what, "salt": salt, "digest": _digest(salt, label, letter),
                "hint": hint.strip()}
    sig = _checks.integer(sig, "sig", low=1, high=12, hint="significant digits, e.g. 3")
    x = _checks.finite(answer, "answer", hint="a number, or an option letter 'a'-'j'")
    return {"kind": "numeric", "what": what, "sig": sig, "salt": salt,
            "digest": _digest(salt, label, _canonical(x, sig)), "hint": hint.strip()}


def load_keys(path: Path | str = KEYS) -> dict[str, dict]:
    """Every exercise key, by label."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@dataclass(frozen=True)
class Feedback:
    """The verdict of :func:`check`: true when right; shows itself in a notebook."""

    label: str
    verdict: str  #: "right", "wrong" or "invalid"
    message: str

    def __bool__(self) -> bool:
        return self.verdict == "right"

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self else "#b3261e"
        mark = "&#10003;" if self else "&#10007;"
        return f'<p style="color:{colour}"><strong>{mark} {html.escape(str(self))}</strong></p>'


def check(label: str, answer: Any, *, keys: dict[str, dict] | None = None) -> Feedback:
    """Whether ``answer`` is right for exercise ``label`` (``ch-entropy`` shows its use).

    ``answer`` is a number for a numeric exercise (it is rounded to the key's significant
    digits; one unit in the last digit either way still counts) or an option letter for a
    multiple-choice one. Returns a :class:`Feedback`: right, or wrong with a hint.
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be an exercise label like 'ex-ent-dice', got {type(label).__name__}")
    keys = load_keys() if keys is None else keys
    if label not in keys:
        known = ", ".join(sorted(keys)) or "none"
        raise ValueError(f"label: no answer key for {label!r}; exercises with a key: {known}")
    key = keys[label]
    if answer is None or answer is Ellipsis:
        return Feedback(label, "invalid", "replace the placeholder by your answer")
    if key["kind"] == "choice":
        if not isinstance(answer, str):
            return Feedback(label, "invalid", "answer with an option letter, e.g. 'b'")
        found = {_digest(key["salt"], label, answer.strip().lower())}
    else:
        try:
            x = _checks.finite(answer, "answer")
        except (TypeError, ValueError):
            return Feedback(label, "invalid", "answer with a finite number")
        found = {_digest(key["salt"], label, c) for c in _candidates(x, key["sig"])}
    if key["digest"] in found:
        return Feedback(label, "right", "right.")
    return Feedback(label, "wrong", f"not quite. Hint: {key['hint']}")
