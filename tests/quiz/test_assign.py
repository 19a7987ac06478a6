"""Graded assignments (klviz.quiz.assign, `make assignments`): build them with otter assign,
grade a correct and an incorrect submission with otter run (no Docker), check the scores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from klviz.quiz import assign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("otter", reason="otter-grader is in requirements.txt (make test installs it)")
    out = tmp_path_factory.mktemp("assignments")
    assert assign.main(["--out", str(out)]) == 0  # what `make assignments` runs
    return out


def _filled(student: Path, answers: dict, dst: Path) -> Path:
    nb = nbformat.read(student, as_version=4)
    for cell in nb.cells:
        for name, value in answers.items():
            if cell.source.startswith(f"{name} = ..."):
                cell.source = f"{name} = {value!r}"
    nbformat.write(nb, dst)
    return dst


def _grade(autograder: Path, submission: Path, out: Path) -> dict[str, float]:
    out.mkdir()
    zips = sorted(autograder.glob("*-autograder_*.zip"))
    assert len(zips) == 1, zips
    subprocess.run([sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(zips[0]), "-o", str(out),
                    str(submission)], check=True, capture_output=True, text=True)
    tests = json.loads((out / "results.json").read_text())["tests"]
    return {t["name"]: t["score"] for t in tests if "max_score" in t}


def test_every_graded_chapter_has_a_student_notebook_without_solutions(built):
    for chapter, graded in assign.GRADED.items():
        student = (built / chapter / "student" / f"{chapter}.ipynb").read_text()
        assert list((built / chapter / "autograder").glob("*.zip")), chapter
        for g in graded:
            name = assign.answer_name(g.label)
            assert f"{name} = ..." in student, (chapter, name)
            assert g.solution[-1].split(" = ", 1)[1] not in student, f"{chapter}: solution of {g.label} left"
        assert "quiz import check" not in student and "# SOLUTION" not in student, f"{chapter}: hidden test or solution left"
        assert "{numref}" not in student and "{eq}" not in student, f"{chapter}: MyST roles left"


def test_grading_scores_a_correct_and_an_incorrect_submission(built, tmp_path):
    chapter = built / "02_entropy"
    # correct: the autograder's own notebook, with the reference solutions
    right = _grade(chapter / "autograder", chapter / "autograder" / "02_entropy.ipynb", tmp_path / "right")
    assert right == {"ex-ent-dice": 1.0, "ex-ent-half-bit": 1.0}
    # incorrect: the fair die's entropy (log2 6) where the loaded die's is asked, a right half bit
    wrong = _filled(chapter / "student" / "02_entropy.ipynb",
                    {"answer_ent_dice": 2.585, "answer_ent_half_bit": 0.11}, tmp_path / "submission.ipynb")
    scores = _grade(chapter / "autograder", wrong, tmp_path / "wrong")
    assert scores == {"ex-ent-dice": 0.0, "ex-ent-half-bit": 1.0}
    print(f"\ngraded 02_entropy: correct {sum(right.values()):.0f}/2, incorrect {sum(scores.values()):.0f}/2")


def test_master_notebook_bad_input():
    with pytest.raises(ValueError, match="chapter"):
        assign.master_notebook("99_none", ())
    with pytest.raises(ValueError, match="no exercise"):
        assign.master_notebook("02_entropy", (assign.Graded("ex-prob-fair-die", ("answer_prob_fair_die = 1",)),))
    assert assign.main(["--out", "/tmp/unused", "--chapters", "99_none"]) == 2
