"""klviz.quiz.questions and .web: declarations, grading and the HTML the browser grades."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import torch

from klviz.quiz import choice, grade, numeric, parse_number, quiz
from klviz.quiz.web import STATIC, SCRIPT, STYLE


def coin():
    return numeric("q-t-coin", "Entropy of $p = 0.9$, in bits?", np.float64(0.4689955935892812),
                   tol=0.005, hint="Weight each face's surprise by its probability.")


def test_numeric_grades_within_the_tolerance():
    q = coin()
    assert isinstance(q.value, float)
    for typed in ("0.47", " 0.469 ", "0,47", "47/100", "4.7e-1"):
        assert grade(q, typed) == "right", typed
    for typed in ("0.48", "-0.47", "0.4", "47"):
        assert grade(q, typed) == "wrong", typed
    for typed in ("", "abc", "1/0", "0.47 bits", "nan"):
        assert grade(q, typed) == "invalid", typed
    assert grade(q, 0.4739) == "right" and grade(q, 0.4741) == "wrong"


def test_parse_number_matches_float_and_fractions():
    assert parse_number("\u22120.5") == -0.5
    assert parse_number("3/4") == pytest.approx(0.75)
    assert parse_number("1e400") is None
    assert parse_number("1,000.5") is None  # ambiguous: the reader must retype it


def test_choice_grades_the_index():
    q = choice("q-t-max", "Largest entropy?", ["certain", "uniform"], answer=1, hint="Least predictable.")
    assert grade(q, 1) == "right" and grade(q, 0) == "wrong" and grade(q, None) == "invalid"


def test_numeric_accepts_torch_scalars():
    assert numeric("q-t-x", "x?", torch.tensor(2.5), tol=0.1, hint="h").value == 2.5


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(qid="bad id"), ValueError, "qid"),
    (dict(qid=3), TypeError, "qid"),
    (dict(value="0.5"), TypeError, "value"),
    (dict(value=float("nan")), ValueError, "value"),
    (dict(tol=0), ValueError, "tol"),
    (dict(hint=""), ValueError, "hint"),
    (dict(hint="It is 0.47 bits."), ValueError, "shows the answer"),
    (dict(text=None), TypeError, "text"),
])
def test_numeric_bad_input(kwargs, err, match):
    args = dict(qid="q-t-a", text="t?", value=0.4689955, tol=0.005, hint="method")
    args.update(kwargs)
    qid, text, value = args.pop("qid"), args.pop("text"), args.pop("value")
    with pytest.raises(err, match=match):
        numeric(qid, text, value, **args)


def test_choice_bad_input():
    with pytest.raises(ValueError, match="answer"):
        choice("q-t-c", "t?", ["a", "b"], answer=2, hint="h")
    with pytest.raises(ValueError, match="options"):
        choice("q-t-c", "t?", ["a", "a"], answer=0, hint="h")
    with pytest.raises(TypeError, match="options"):
        choice("q-t-c", "t?", "ab", answer=0, hint="h")
    with pytest.raises(ValueError, match="names the right option"):
        choice("q-t-c", "t?", ["uniform", "certain"], answer=0, hint="Think uniform.")
    with pytest.raises(TypeError, match="questions"):
        quiz("not a question")
    with pytest.raises(ValueError, match="repeat"):
        quiz(coin(), coin())


def test_html_holds_the_key_and_sphinx_math(monkeypatch):
    monkeypatch.setenv("KLVIZ_BOOK_BUILD", "1")
    page = quiz(coin())._repr_html_()
    assert "<script" not in page and "<style" not in page  # the book serves them
    key = json.loads(base64.b64decode(re.search(r'data-key="([^"]+)"', page)[1]))
    assert key == {"v": pytest.approx(0.4689955935892812), "t": 0.005}
    assert '<span class="math notranslate nohighlight">\\(p = 0.9\\)</span>' in page
    assert "0.469" not in page.split("data-key")[0] and "hidden><em>Hint" in page


def test_inline_code_and_escaping():
    q = choice("q-t-code", "What does `nn.CrossEntropyLoss` take, <b>?", ["a", "b"], answer=0, hint="h")
    page = quiz(q)._repr_html_()
    assert '<code class="docutils literal notranslate">nn.CrossEntropyLoss</code>' in page
    assert "&lt;b&gt;" in page and "<b>" not in page


def test_local_notebook_inlines_script_and_style(monkeypatch):
    monkeypatch.delenv("KLVIZ_BOOK_BUILD", raising=False)
    page = quiz(coin())._repr_html_()
    assert (STATIC / SCRIPT).read_text() in page and (STATIC / STYLE).read_text() in page
    assert "http" not in (STATIC / SCRIPT).read_text()  # nothing loaded from elsewhere
