"""Every chapter has the parts a reader, a student and an instructor expect.

Structure only (the build executes the code): learning objectives, a summary, exercises with
gated solutions, a sympy derivation, a figure with caption and alt text, a local ipywidgets
explorer whose output is kept out of the web page, and a kernel-free slider for the web page.
And what a reader sees, from the source: code cells of at most 20 lines whose lines fit the page
(measured in Chromium; tests/test_browser.py checks the built pages), and hidden cells that only do
bookkeeping (listed by ``test_hidden_cells_are_listed``).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def text(cs, kind: str) -> str:
    return "\n".join("".join(c["source"]) for c in cs if c["cell_type"] == kind)


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_label_objectives_and_summary(nb):
    md = text(cells(nb), "markdown")
    assert re.search(r"^\(ch-[a-z-]+\)=\s*\n# ", md, re.M), f"{nb.name}: a (ch-...)= label before the title"
    assert re.search(r"learning objectives|after this chapter", md, re.I), f"{nb.name}: learning objectives"
    assert re.search(r"^#+ Summary", md, re.M), f"{nb.name}: a Summary section"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_gated_exercises_with_solutions(nb):
    md = text(cells(nb), "markdown")
    exercises = re.findall(r":::\{exercise\}[^\n]*\n:label: (\S+)", md)
    starts = re.findall(r":::\{solution-start\} (\S+)", md)
    assert len(exercises) >= 3, f"{nb.name}: at least three exercises, found {len(exercises)}"
    assert sorted(exercises) == sorted(starts), f"{nb.name}: every exercise needs one gated solution"
    assert md.count(":::{solution-end}") == len(starts)
    assert len(re.findall(r":class: dropdown", md)) >= len(starts), f"{nb.name}: solutions fold (:class: dropdown)"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_derives_with_sympy_and_draws_figures(nb):
    cs = cells(nb)
    code = text(cs, "code")
    if "distillation_lab" not in nb.name:  # the lab trains models; its derivations are chapters ``ch-kl-practice`` to ``ch-gkl``'s
        assert re.search(r"\bsympy\b|\bsp\.|symbolic", code), f"{nb.name}: at least one sympy derivation"
    figures = [c for c in cs if c["cell_type"] == "code" and "figure" in c["metadata"].get("mystnb", {})]
    assert figures, f"{nb.name}: at least one figure with a caption (mystnb.figure metadata)"
    for c in figures:
        meta = c["metadata"]["mystnb"]
        assert meta["figure"].get("caption") and meta["figure"].get("name"), f"{nb.name}: caption and name"
        alt = meta.get("image", {}).get("alt", "")
        assert len(alt.split()) >= 5, f"{nb.name}: figure {meta['figure'].get('name')} needs descriptive alt text"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_local_explorer_and_online_slider(nb):
    cs = cells(nb)
    explorers = [c for c in cs if c["cell_type"] == "code" and "explorer" in "".join(c["source"])
                 and "import" not in "".join(c["source"]).splitlines()[-1]]
    assert explorers, f"{nb.name}: an ipywidgets explorer (a declared figure's .explorer())"
    for c in explorers:
        if re.search(r"^[\w.]*explorer\(", "".join(c["source"]).splitlines()[-1].strip()):
            assert "remove-output" in c["metadata"].get("tags", []), f"{nb.name}: tag the explorer cell remove-output"
    code = text(cs, "code")
    assert "klviz.figures" in code and re.search(r"show\(\s*[\w.]+\.online\(", code), (
        f"{nb.name}: a kernel-free slider, show(<declared figure>.online(...), alt=...) from klviz.figures"
    )


def test_install_cell_points_at_the_configured_repository():
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for nb in CHAPTERS:
        install = "".join(cells(nb)[1]["source"])
        assert f"git+{repo}" in install, f"{nb.name}: the install cell must use {repo} (from _config.yml)"


# --- what a reader sees (issue 11; the built pages are checked in tests/test_browser.py) ---------

MAX_CELL_LINES = 20
# Characters of the theme's code font (14 px, 8.43 px a character) that fit a code cell at a
# 1280x900 window, measured in Chromium: 77 in the main column, 69 inside a solution (the
# admonition's padding). The main column keeps a margin: 70.
MAX_LINE = {"main": 70, "solution": 69}
HIDDEN_TAGS = {"remove-input", "hide-input", "remove-cell", "hide-cell"}
REMOVED_TAGS = {"remove-input", "remove-cell"}  # never shown, not even on a click
# functions a hidden cell may call as a statement: gluing numbers, showing a figure or the
# self-check questions (klviz.quiz.quiz)
BOOKKEEPING_CALLS = {"glue", "show", "display", "quiz"}


def code_cells(nb: Path) -> list[tuple[int, dict, str]]:
    """``(index, cell, where)`` of every code cell, ``where`` being "solution" between a
    solution-start and its solution-end, else "main"."""
    out, where = [], "main"
    for i, c in enumerate(cells(nb)):
        src = "".join(c["source"])
        if c["cell_type"] == "markdown":
            for line in src.splitlines():
                if line.startswith(":::{solution-start}"):
                    where = "solution"
                elif line.startswith(":::{solution-end}"):
                    where = "main"
        elif c["cell_type"] == "code":
            out.append((i, c, where))
    return out


def _tags(c: dict) -> set[str]:
    return set(c["metadata"].get("tags", []))


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_code_cells_are_at_most_20_lines(nb):
    long = [f"cell {i} ({len(''.join(c['source']).splitlines())} lines): "
            f"{''.join(c['source']).splitlines()[0][:50]!r}"
            for i, c, _ in code_cells(nb) if len("".join(c["source"]).rstrip("\n").splitlines()) > MAX_CELL_LINES]
    assert not long, f"{nb.name}: code cells over {MAX_CELL_LINES} lines (split them, or check in one line " \
                     "and move the full check to the tests):\n" + "\n".join(long)


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit_the_page(nb):
    """Every line a reader can see fits the code cell at 1280x900 without scrolling."""
    wide = []
    for i, c, where in code_cells(nb):
        if _tags(c) & REMOVED_TAGS:
            continue
        for n, line in enumerate("".join(c["source"]).splitlines(), start=1):
            if len(line) > MAX_LINE[where]:
                wide.append(f"cell {i} line {n} ({where}, {len(line)} > {MAX_LINE[where]} characters): {line[:60]!r}")
    assert not wide, f"{nb.name}: lines too wide for the page:\n" + "\n".join(wide)


def _python(src: str) -> ast.Module:
    # IPython magics and shell escapes are not Python: read them as no-ops
    lines = [line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
             for line in src.splitlines()]
    return ast.parse("\n".join(lines))


def _stored(tree: ast.AST) -> set[str]:
    """Names a cell binds at its top level (not a comprehension's own variables)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names - _local(tree)


def _local(tree: ast.AST) -> set[str]:
    # the variables of comprehensions and the arguments of functions: bound in their own scope
    names = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension)
             for n in ast.walk(c.target) if isinstance(n, ast.Name)}
    return names | {a.arg for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.Lambda))
                    for a in f.args.args + f.args.kwonlyargs + f.args.posonlyargs}


def _loaded(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - _local(tree)


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def _is_text(value: ast.AST) -> bool:
    return isinstance(value, ast.JoinedStr) or (isinstance(value, ast.Constant) and isinstance(value.value, str))


def _not_bookkeeping(stmt: ast.stmt) -> list[str]:
    """The parts of a statement that are not bookkeeping: a glue/show call, an assert, an
    assignment, an import, or a loop or ``with`` of these."""
    if isinstance(stmt, (ast.Assert, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom,
                         ast.Pass, ast.Delete)):
        return []
    if isinstance(stmt, ast.Expr) and (_call_name(stmt.value) in BOOKKEEPING_CALLS or _is_text(stmt.value)):
        return []
    if isinstance(stmt, (ast.For, ast.If, ast.With)):
        return [bad for s in stmt.body + getattr(stmt, "orelse", []) for bad in _not_bookkeeping(s)]
    return [ast.unparse(stmt).splitlines()[0][:70]]


def hidden_cells(nb: Path) -> list[tuple[int, set[str], str]]:
    """``(index, tags, first line)`` of every code cell whose input a reader does not see
    (the install cell, which sets the chapter up, is the first code cell)."""
    return [(i, _tags(c) & HIDDEN_TAGS, "".join(c["source"]).splitlines()[0] if c["source"] else "")
            for i, c, _ in code_cells(nb) if _tags(c) & HIDDEN_TAGS]


def test_hidden_cells_are_listed(capsys):
    """The list of hidden cells, for the record (``pytest -s`` shows it)."""
    listing = [f"{nb.stem} cell {i} {sorted(tags)}: {first[:60]}" for nb in CHAPTERS
               for i, tags, first in hidden_cells(nb)]
    with capsys.disabled():
        print(f"\n{len(listing)} hidden code cells:\n  " + "\n  ".join(listing))
    assert all(hidden_cells(nb)[0][0] == code_cells(nb)[0][0] for nb in CHAPTERS), "the install cell is hidden"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_hidden_cells_only_do_bookkeeping(nb):
    """A hidden cell glues, asserts, shows a figure or holds alt text; whatever it computes is
    read only by hidden cells, so everything a reader sees is computed in sight."""
    problems = []
    from_hidden: dict[str, int] = {}
    install = code_cells(nb)[0][0]
    for i, c, _ in code_cells(nb):
        tree = _python("".join(c["source"]))
        if _tags(c) & HIDDEN_TAGS:
            if i == install:
                continue  # installs klviz, imports and seeds: the chapter's set-up, listed above
            problems += [f"cell {i} hidden but not bookkeeping: {bad!r}" for s in tree.body for bad in _not_bookkeeping(s)]
            texts = {t.id for s in tree.body if isinstance(s, ast.Assign) and _is_text(s.value)
                     for t in s.targets if isinstance(t, ast.Name)}
            from_hidden.update(dict.fromkeys(_stored(tree) - texts, i))
        else:
            stored = _stored(tree)
            problems += [f"cell {i} (visible) reads {name!r}, computed out of sight in cell {from_hidden[name]}"
                         for name in sorted((_loaded(tree) - stored) & from_hidden.keys())]
            for name in stored:
                from_hidden.pop(name, None)
    assert not problems, f"{nb.name}:\n" + "\n".join(problems)


# --- self-check questions (issue 16; tests/test_browser.py answers them on the built pages) ------

MIN_QUESTIONS = 3
QUESTION_KINDS = {"numeric", "choice"}


def questions(nb: Path) -> list[tuple[int, str, str]]:
    """``(cell index, kind, id)`` of every self-check question declared in a ``quiz(...)`` cell."""
    found = []
    for i, c, _ in code_cells(nb):
        tree = _python("".join(c["source"]))
        if not any(_call_name(n) == "quiz" for n in ast.walk(tree)):
            continue
        for node in ast.walk(tree):
            kind = _call_name(node)
            if kind in QUESTION_KINDS and node.args and isinstance(node.args[0], ast.Constant):
                found.append((i, kind, node.args[0].value))
    return found


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_self_check_questions(nb):
    """At least three questions, in hidden cells tagged quiz (the student edition drops them:
    their source holds the answers), numeric ones taking the chapter's computed value."""
    qs = questions(nb)
    assert len(qs) >= MIN_QUESTIONS, (
        f"{nb.name}: {len(qs)} self-check questions, at least {MIN_QUESTIONS} needed "
        "(klviz.quiz.quiz in a hidden cell, see /CONTRIBUTING.md)")
    cs = cells(nb)
    for i in sorted({i for i, _, _ in qs}):
        tags = _tags(cs[i])
        assert {"remove-input", "quiz"} <= tags, f"{nb.name}: tag quiz cell {i} remove-input and quiz"
    for i, c, _ in code_cells(nb):
        for node in ast.walk(_python("".join(c["source"]))):
            if _call_name(node) == "numeric" and len(node.args) >= 3:
                assert not isinstance(node.args[2], ast.Constant), (
                    f"{nb.name}: cell {i}: question {node.args[0].value!r} types its answer; pass the "
                    "value the chapter computed")


def test_question_ids_are_unique_across_chapters():
    seen: dict[str, str] = {}
    for nb in CHAPTERS:
        for _, _, qid in questions(nb):
            assert qid not in seen, f"question id {qid!r} in {nb.name} and {seen[qid]}"
            seen[qid] = nb.name
