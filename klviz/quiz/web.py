"""Self-check questions as static HTML that checks answers in the browser, with no kernel.

:func:`quiz` renders questions (:mod:`klviz.quiz.questions`) as HTML: the text, an input or
radio buttons, a *Check* button, a feedback line and a hint that shows after a wrong answer.
``static/klviz-quiz.js`` grades the answer with the rule of :func:`klviz.quiz.questions.grade`.

- In the book build the script and its style come from the book's own static files (the book's
  extension adds ``klviz/quiz/static`` to ``html_static_path``): no CDN.
- In a local notebook they are inlined into the output, so the quiz works in Jupyter too.
- Inline code (```...```) becomes ``<code>``; math in the text (``$...$``) is written as Sphinx writes inline math
  (``<span class="math">\\(...\\)</span>``), so the page's own MathJax typesets it with the rest
  of the page; the quiz never loads a MathJax.
- The key of each question (the value and tolerance, or the right option) sits base64-encoded in
  a ``data-key`` attribute: it keeps the answer out of sight, not out of reach (the web book
  shows the worked solutions, folded, anyway).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from pathlib import Path

from klviz.quiz.questions import Choice, Numeric
from klviz.viz.online import in_book_build

__all__ = ["Quiz", "quiz", "STATIC", "SCRIPT", "STYLE"]

STATIC = Path(__file__).resolve().parent / "static"
SCRIPT = "klviz-quiz.js"
STYLE = "klviz-quiz.css"
_INLINE = re.compile(r"(?<!\\)\$(?P<math>.+?)(?<!\\)\$|`(?P<code>[^`]+)`")


def _rich(text: str) -> str:
    """``text`` as HTML: escaped, each ``$...$`` as Sphinx's inline-math span and each
    ```code``` as ``<code>``."""
    out, last = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        if m["math"] is not None:
            out.append(f'<span class="math notranslate nohighlight">\\({html.escape(m["math"])}\\)</span>')
        else:
            out.append(f'<code class="docutils literal notranslate">{html.escape(m["code"])}</code>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\\$", "$")


def _key(data: dict) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def _question_html(q: Numeric | Choice, n: int) -> str:
    qid = html.escape(q.qid)
    head = f'<p class="klviz-quiz-text" id="{qid}-text"><strong>{n}.</strong> {_rich(q.text)}</p>'
    if isinstance(q, Numeric):
        kind, key = "numeric", {"v": q.value, "t": q.tol}
        unit = f' <span class="klviz-quiz-unit">{_rich(q.unit)}</span>' if q.unit else ""
        answer = (f'<input type="text" inputmode="decimal" autocomplete="off" class="klviz-quiz-input" '
                  f'aria-labelledby="{qid}-text">{unit}')
    else:
        kind, key = "choice", {"a": q.answer}
        answer = "".join(
            f'<label class="klviz-quiz-option"><input type="radio" name="{qid}" value="{i}"> '
            f"{_rich(opt)}</label>" for i, opt in enumerate(q.options))
        answer = f'<div role="radiogroup" aria-labelledby="{qid}-text">{answer}</div>'
    return (f'<div class="klviz-quiz-q" id="{qid}" data-kind="{kind}" data-key="{_key(key)}">{head}'
            f'<div class="klviz-quiz-answer">{answer} '
            f'<button type="button" class="klviz-quiz-check">Check</button></div>'
            f'<p class="klviz-quiz-feedback" role="status" aria-live="polite"></p>'
            f'<p class="klviz-quiz-hint" hidden><em>Hint:</em> {_rich(q.hint)}</p></div>')


class Quiz:
    """Questions shown together; displays as HTML in the book and in Jupyter."""

    def __init__(self, questions: Iterable[Numeric | Choice], title: str = "Check yourself"):
        self.questions = list(questions)
        self.title = title

    def _repr_html_(self) -> str:
        body = "".join(_question_html(q, i) for i, q in enumerate(self.questions, start=1))
        block = (f'<div class="klviz-quiz" role="group" aria-label="{html.escape(self.title)}">'
                 f'<p class="klviz-quiz-title">{html.escape(self.title)}</p>{body}</div>')
        if in_book_build():
            return block  # script and style: the book's static files
        script = (STATIC / SCRIPT).read_text(encoding="utf-8")
        style = (STATIC / STYLE).read_text(encoding="utf-8")
        return f"<style>{style}</style>{block}<script>{script}</script>"

    def __repr__(self) -> str:
        return f"Quiz({', '.join(q.qid for q in self.questions)})"


def quiz(*questions: Numeric | Choice, title: str = "Check yourself") -> Quiz:
    """Show ``questions`` (from :func:`~klviz.quiz.numeric` / :func:`~klviz.quiz.choice`) as a
    self-check box that grades in the browser, e.g. in a hidden cell of ``ch-entropy``::

        quiz(numeric("q-ent-coin", "Entropy of the 0.9 coin, in bits, to two decimals?",
                     h_coin, tol=0.005, hint="Add both outcomes' surprise, weighted."))
    """
    if not questions:
        raise ValueError("questions: pass at least one numeric(...) or choice(...)")
    for i, q in enumerate(questions):
        if not isinstance(q, (Numeric, Choice)):
            raise TypeError(f"questions[{i}] must come from numeric(...) or choice(...), "
                            f"got {type(q).__name__}")
    ids = [q.qid for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"questions: ids repeat in {ids}; give each question its own id")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    return Quiz(questions, title)
