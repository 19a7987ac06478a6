"""The student edition of the real chapters: no solution, no quiz answers, working check cells."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from klviz.export import export, find_solutions
from klviz.quiz import load_keys

ROOT = Path(__file__).resolve().parents[2]
# answers transcribed from the chapters (tests/quiz/test_answers.py checks them against the keys)
KNOWN = {"ex-ent-dice": 2.161, "ex-prob-fair-die": 35 / 12, "ex-kl-reduction": 50_257}


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    export(ROOT / "notebooks", out, "both")
    return out


def _sources(nb) -> list[str]:
    return ["".join(c.source) for c in nb.cells]


def test_student_edition_has_no_solution_and_no_quiz(editions):
    for path in sorted((editions / "student").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(_sources(nb))
        original = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
        for sol in find_solutions(original, name=path.name):
            for code in sol.code:
                assert code.strip() not in text, f"{path.name}: solution code of {sol.exercise} left"
        assert "solution-start" not in text and "quiz(" not in text and "answer=" not in text, path.name
        assert not [c for c in nb.cells if "quiz" in c.metadata.get("tags", [])], path.name


def test_check_cells_work_in_the_student_edition(editions):
    keys = load_keys()
    found = {}
    for path in sorted((editions / "student").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            label = cell.metadata.get("klviz", {}).get("check")
            if label:
                found[label] = cell.source
    assert set(found) == set(keys), "every keyed exercise gets one check cell in the student edition"
    for label, src in found.items():
        scope: dict = {}
        exec(compile(src, label, "exec"), scope)  # as written: the placeholder None
        fb = eval(src.splitlines()[-1], scope)
        assert fb.verdict == "invalid" and keys[label]["what"] in src
        if label in KNOWN:
            right = eval(src.splitlines()[-1].replace("None", repr(KNOWN[label])), scope)
            wrong = eval(src.splitlines()[-1].replace("None", repr(2 * KNOWN[label])), scope)
            assert right and not wrong and "Hint" in wrong.message, label


def test_instructor_edition_keeps_quiz_and_key_asserts(editions):
    text = "\n".join(json.dumps(_sources(nbformat.read(p, as_version=4)))
                     for p in (editions / "instructor").glob("*.ipynb"))
    assert "quiz(" in text and 'assert check(\\"ex-ent-dice\\"' in text
