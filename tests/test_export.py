"""Student / instructor editions (klviz.export): solutions gone, prompts kept, still runnable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from klviz.export import export, find_solutions, instructor_notebook, main, student_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell


def synthetic() -> nbformat.NotebookNode:
    """Two exercises: a solution spread over several cells, and one in the prompt's own cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [
        md("# A chapter\n\nSome text with $H(p)$."),
        code("import math\nx = 0.25\nprint(x)", outputs=[nbformat.v4.new_output("stream", text="0.25\n")], execution_count=1),
        md(
            ":::{exercise} Multi-cell exercise\n:label: ex-multi\nPROMPT-MULTI: compute the entropy of a fair coin.\n:::\n\n"
            ":::{solution-start} ex-multi\n:class: dropdown\n:label: sol-multi\n:::\nSOLUTION-MULTI-TEXT: use the formula."
        ),
        code("SOLUTION_MULTI_CODE = -2 * 0.5 * math.log2(0.5)\nprint(SOLUTION_MULTI_CODE)"),
        md("SOLUTION-MULTI-MORE: so it is one bit."),
        code("assert SOLUTION_MULTI_CODE == 1.0"),
        md(":::{solution-end}\n:::\n\nAFTER-MULTI: text after the solution stays; see {ref}`sol-multi` and {ref}`ex-multi`."),
        code("y = x * 2\nprint(y)"),
        md(
            ":::{exercise} Same-cell exercise\n:label: ex-same\nPROMPT-SAME: why is KL not symmetric?\n:::\n\n"
            ":::{solution-start} ex-same\n:class: dropdown\n:::\nSOLUTION-SAME-TEXT: because the expectation is under p.\n"
            "$$\nD(p\\|q) \\ne D(q\\|p)\n$$\n:::{solution-end}\n:::\n\nAFTER-SAME: closing remark."
        ),
        md(
            ":::{exercise} Block exercise\n:label: ex-block\nPROMPT-BLOCK: a one-block solution.\n:::\n\n"
            "::::{solution} ex-block\n:class: dropdown\nSOLUTION-BLOCK-TEXT\n:::{note}\nnested\n:::\nSOLUTION-BLOCK-TAIL\n::::\nAFTER-BLOCK"
        ),
        md("Markers inside a code block are examples, not solutions:\n\n```\n:::{solution-start} ex-demo\n:::\n```\nEND"),
        code("print(y + 1)"),
    ]
    return nb


def text_of(nb) -> str:
    return "\n".join("".join(c.source) for c in nb.cells)


def test_find_solutions_reads_labels_cells_and_code():
    sols = find_solutions(synthetic())
    assert [s.exercise for s in sols] == ["ex-multi", "ex-same", "ex-block"]
    assert sols[0].label == "sol-multi" and sols[0].cells == [2, 3, 4, 5, 6]
    assert len(sols[0].code) == 2 and "SOLUTION_MULTI_CODE" in sols[0].code[0]
    assert sols[1].cells == [8] and sols[2].form == "block"


def test_student_edition_removes_solutions_and_keeps_prompts():
    nb = synthetic()
    student = student_notebook(nb, name="synthetic")
    text = text_of(student)
    demo = student.cells[-2].source
    assert "ex-demo" in demo
    for gone in ("solution-start", "solution-end", "{solution}", "SOLUTION", "sol-multi", "nested"):
        assert gone not in text.replace(demo, ""), f"{gone!r} survived:\n{text}"
    for kept in ("PROMPT-MULTI", "PROMPT-SAME", "PROMPT-BLOCK", "AFTER-MULTI", "AFTER-SAME", "AFTER-BLOCK", "{ref}`ex-multi`"):
        assert kept in text, f"{kept!r} was lost"
    # the example inside a code block is untouched
    assert ":::{solution-start} ex-demo" in text
    notes = [c for c in student.cells if c.metadata.get("klviz", {}).get("removed-solution")]
    assert [c.metadata["klviz"]["removed-solution"] for c in notes] == ["ex-multi", "ex-same", "ex-block"]
    # each note sits right after its prompt, before the text that followed the solution
    order = [("PROMPT-SAME" in c.source, "removed-solution" in str(c.metadata), "AFTER-SAME" in c.source) for c in student.cells]
    i_prompt = next(i for i, o in enumerate(order) if o[0])
    assert order[i_prompt + 1][1] and order[i_prompt + 2][2]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in student.cells if c.cell_type == "code")
    assert len({c.id for c in student.cells}) == len(student.cells)
    nbformat.validate(student)
    # the original is untouched
    assert "SOLUTION-MULTI-TEXT" in text_of(nb) and nb.cells[1].outputs


def test_instructor_edition_keeps_everything_without_outputs():
    nb = synthetic()
    inst = instructor_notebook(nb)
    assert [c.source for c in inst.cells] == [c.source for c in nb.cells]
    assert all(not c.get("outputs") for c in inst.cells if c.cell_type == "code")
    assert inst.metadata["klviz"]["edition"] == "instructor"


@pytest.mark.parametrize(
    "cells, match",
    [
        ([md(":::{solution-start} ex-a\n:::\nno end")], "no `:::{solution-end}`"),
        ([md(":::{solution-end}\n:::")], "no `solution-start`"),
        ([md(":::{solution-start} ex-a\n:::"), md(":::{solution-start} ex-b\n:::")], "inside the solution"),
        ([md("::::{solution} ex-a\nnot closed")], "not closed"),
    ],
)
def test_unmatched_markers_raise(cells, match):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    with pytest.raises(ValueError, match=re.escape(match)):
        student_notebook(nb, name="bad.ipynb")


def test_student_edition_of_synthetic_notebook_executes(tmp_path):
    from nbclient import NotebookClient

    nb = synthetic()
    # the solution's assert would fail without the solution's code: drop it from the student run
    student = student_notebook(nb, name="synthetic")
    NotebookClient(student, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outs = [o.get("text", "") for c in student.cells if c.cell_type == "code" for o in c.outputs]
    assert outs == ["0.25\n", "0.5\n", "1.5\n"]


def test_cli_writes_both_editions(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    nbformat.write(synthetic(), src / "01_synthetic.ipynb")
    assert main(["--out", str(tmp_path / "out"), "--src", str(src)]) == 0
    student = nbformat.read(tmp_path / "out" / "student" / "01_synthetic.ipynb", as_version=4)
    inst = nbformat.read(tmp_path / "out" / "instructor" / "01_synthetic.ipynb", as_version=4)
    assert "SOLUTION" not in text_of(student) and "SOLUTION-MULTI-TEXT" in text_of(inst)
    assert main(["--out", str(tmp_path / "only"), "--src", str(src), "--edition", "student"]) == 0
    assert not (tmp_path / "only" / "instructor").exists()
    assert main(["--out", str(tmp_path / "x"), "--src", str(tmp_path / "missing")]) == 2
    with pytest.raises(ValueError, match="edition"):
        export(src, tmp_path / "y", edition="teacher")


def test_module_runs_as_script(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    nbformat.write(synthetic(), src / "a.ipynb")
    proc = subprocess.run(
        [sys.executable, "-m", "klviz.export", "--out", str(tmp_path / "o"), "--src", str(src), "--edition", "both"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "student" / "a.ipynb").exists()


# --- the real chapters (whichever exist now) ------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_real_notebook_student_edition_has_no_solutions(path):
    nb = nbformat.read(path, as_version=4)
    sols = find_solutions(nb, name=path.name)
    student = student_notebook(nb, name=path.name)
    text = text_of(student)
    assert "solution-start" not in text and "solution-end" not in text, f"{path.name}: a solution marker survived"
    assert not re.search(r"^ {0,3}:{3,}\{solution\}", text, re.M), f"{path.name}: a {{solution}} block survived"
    for sol in sols:
        if sol.label:
            assert sol.label not in text, f"{path.name}: a reference to solution label {sol.label!r} survived"
        for src in sol.code:
            body = src.strip()
            if body:
                assert all(body != c.source.strip() for c in student.cells if c.cell_type == "code"), (
                    f"{path.name}: code of the solution to {sol.exercise!r} survived"
                )
    # every exercise prompt survives
    exercises = re.findall(r"^ {0,3}:{3,}\{exercise\}.*$", text_of(nb), re.M)
    assert len(re.findall(r"^ {0,3}:{3,}\{exercise\}.*$", text, re.M)) == len(exercises)
    labels = re.findall(r"^:label:\s*(ex-\S+)", text_of(nb), re.M)
    for label in labels:
        assert f":label: {label}" in text, f"{path.name}: exercise {label} lost its prompt"
    notes = [c for c in student.cells if c.metadata.get("klviz", {}).get("removed-solution")]
    assert len(notes) == len(sols)
    nbformat.validate(student)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_real_notebook_student_code_does_not_need_solution_names(path):
    """Names first assigned in a solution's code must not be used by the cells the students keep."""
    import ast

    nb = nbformat.read(path, as_version=4)
    sols = find_solutions(nb, name=path.name)
    solution_code = {src for s in sols for src in s.code}

    def names(src: str, ctx) -> set[str]:
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            return set()
        out = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}
        if ctx is ast.Store:
            for n in ast.walk(tree):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    out.add(n.name)
                elif isinstance(n, ast.arg):  # lambda and function parameters
                    out.add(n.arg)
                elif isinstance(n, (ast.Import, ast.ImportFrom)):
                    out |= {(a.asname or a.name).split(".")[0] for a in n.names}
        return out

    kept = [c.source for c in nb.cells if c.cell_type == "code" and c.source not in solution_code]
    only_in_solutions = set().union(*(names(s, ast.Store) for s in solution_code)) - set().union(
        *(names(s, ast.Store) for s in kept)
    )
    used = set().union(*(names(s, ast.Load) for s in kept))
    leaked = sorted(only_in_solutions & used)
    assert not leaked, f"{path.name}: kept cells use {leaked}, defined only in solution code (the student edition would fail)"


def test_real_notebooks_export(tmp_path):
    if not NOTEBOOKS:
        pytest.skip("no chapter notebooks yet")
    written = export(ROOT / "notebooks", tmp_path, "both")
    assert len(written["student"]) == len(written["instructor"]) == len(NOTEBOOKS)


@pytest.mark.slow
def test_student_edition_of_chapter_1_executes():
    """The first chapter is small (seconds): its student edition runs without the solutions' code."""
    from nbclient import NotebookClient

    path = ROOT / "notebooks" / "01_probability_softmax.ipynb"
    if not path.exists():
        pytest.skip("chapter ``ch-probability`` is not written yet")
    student = student_notebook(nbformat.read(path, as_version=4), name=path.name)
    NotebookClient(
        student, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
