"""Self-check questions for the web book, answer checks in notebooks, graded assignments.

- :func:`quiz` with :func:`numeric` / :func:`choice`: a self-check box that grades in the
  browser with no kernel (hidden cell of a chapter; numbers from the chapter's own values).
- :func:`check`: ``check("ex-ent-dice", answer)`` in a notebook, right or wrong with a hint,
  against salted digests in ``keys.json`` (works in the student edition; deters peeking only).
- :mod:`klviz.quiz.assign`: graded assignments with hidden tests (``make assignments``).

``book/teaching.md`` explains the three for instructors; ``/CONTRIBUTING.md`` for authors.
"""

from klviz.quiz.answers import Feedback, check, load_keys, make_key
from klviz.quiz.questions import Choice, Numeric, choice, grade, numeric, parse_number
from klviz.quiz.web import Quiz, quiz

__all__ = ["quiz", "numeric", "choice", "check", "grade", "parse_number", "Quiz", "Numeric",
           "Choice", "Feedback", "load_keys", "make_key"]
