"""Student and instructor editions of the chapter notebooks.

    python -m klviz.export --out _build/editions [--edition student|instructor|both] [--src notebooks]

Both editions are written without outputs (readers execute them). The instructor edition keeps
every cell. The student edition removes each worked solution, written in the gated form of
sphinx-exercise (CONTRIBUTING.md)::

    :::{solution-start} ex-entropy-biased-coin
    :class: dropdown
    :::
    (markdown and code cells of the worked solution)
    :::{solution-end}
    :::

Everything from the ``solution-start`` fence through the closing fence of ``solution-end`` goes,
whether the two markers sit in one markdown cell or in different cells (code cells between them
go too); text before the start marker and after the end marker stays, so exercise prompts that
share a cell with a solution survive. The one-block form ``:::{solution} ex-label ... :::`` is
removed as well. A short note cell marks the place of each removed solution, and references
(``{ref}``/``{numref}``) to a removed solution's ``:label:`` become plain text.

Self-check questions (cells that call ``quiz(...)`` or are tagged ``quiz``, see
:mod:`klviz.quiz.web`) hold their answers in their source: the student edition drops them. Where
an exercise has an answer key (:mod:`klviz.quiz.answers`), a code cell after the note lets the
student check an answer: ``check("ex-...", None)``, ``None`` to be replaced by the answer.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Solution", "find_solutions", "student_notebook", "instructor_notebook", "export", "main"]

EDITIONS = ("student", "instructor")

# A directive fence may be indented by up to three spaces (four make an indented code block).
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<colons>:{3,})\{(?P<name>[A-Za-z0-9_:-]+)\}\s*(?P<arg>.*?)\s*$")
_FENCE_CLOSE = re.compile(r"^ {0,3}(?P<colons>:{3,})\s*$")
_OPTION = re.compile(r"^ {0,3}:(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*?)\s*$")
_CODE_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")

# A plain blockquote reads the same in Jupyter, Colab and a MyST build.
NOTE_TEMPLATE = (
    "> **Solution removed.** The worked solution{target} is not part of the student edition: "
    "try the exercise yourself first; your instructor has the instructor edition."
)


QUIZ_TAG = "quiz"
_QUIZ_CALL = re.compile(r"(?<![\w.])quiz\(")
CHECK_TEMPLATE = (
    "# check your answer ({what}): replace None by it\n"
    "from klviz.quiz import check\n"
    'check("{label}", None)'
)


@dataclass
class Solution:
    """One worked solution found in a notebook."""

    exercise: str  #: the label of the exercise it solves (the directive's argument)
    label: str | None = None  #: the solution's own ``:label:``, if it has one
    cells: list[int] = field(default_factory=list)  #: indices of the cells it touches
    code: list[str] = field(default_factory=list)  #: sources of its code cells
    form: str = "gated"  #: "gated" (solution-start/-end) or "block" (:::{solution})


class _Stripper:
    """Line-level state machine over a notebook's markdown and code cells."""

    def __init__(self, name: str):
        self.name = name
        self.solutions: list[Solution] = []
        self.state = "text"  # text | solution | end-fence | block
        self.block_colons = 0
        self.code_fence: str | None = None

    @property
    def inside(self) -> bool:
        return self.state != "text"

    def _start(self, exercise: str, form: str, index: int) -> Solution:
        sol = Solution(exercise=exercise or "?", form=form, cells=[index])
        self.solutions.append(sol)
        return sol

    def markdown(self, source: str, index: int) -> tuple[list, int]:
        """The kept pieces of a markdown cell (text lines, and a :class:`Solution` where one
        begins) and how many solutions began in it."""
        kept: list = []
        started = 0
        in_options = False  # reading the option lines of a solution-start fence
        if self.inside:
            self.solutions[-1].cells.append(index)
        for line in source.splitlines(keepends=True):
            bare = line.rstrip("\n")
            if self.state == "end-fence":
                # the `:::{solution-end}` fence: options and blank lines up to its closing `:::`
                if _FENCE_CLOSE.match(bare):
                    self.state = "text"
                    continue
                if _OPTION.match(bare) or not bare.strip():
                    continue
                # an end marker written without its closing fence: this line is ordinary text
                self.state = "text"
            if self.state == "text":
                if self.code_fence is not None:  # inside ``` ... ```: markers here are examples
                    if bare.strip().startswith(self.code_fence):
                        self.code_fence = None
                    kept.append(line)
                    continue
                m = _CODE_FENCE.match(bare)
                if m:
                    self.code_fence = m["fence"]
                    kept.append(line)
                    continue
                m = _FENCE_OPEN.match(bare)
                if m and m["name"] == "solution-start":
                    kept.append(self._start(m["arg"].split()[0] if m["arg"] else "", "gated", index))
                    self.state, in_options, started = "solution", True, started + 1
                    continue
                if m and m["name"] == "solution":
                    kept.append(self._start(m["arg"].split()[0] if m["arg"] else "", "block", index))
                    self.state, in_options, started = "block", True, started + 1
                    self.block_colons = len(m["colons"])
                    continue
                if m and m["name"] == "solution-end":
                    raise ValueError(
                        f"{self.name}: cell {index} has a `solution-end` with no `solution-start` "
                        "before it; add the start marker or remove the end marker"
                    )
                kept.append(line)
            elif self.state == "solution":
                opt = _OPTION.match(bare)
                if in_options and opt:
                    if opt["key"] == "label":
                        self.solutions[-1].label = opt["value"]
                    continue
                in_options = False
                m = _FENCE_OPEN.match(bare)
                if m and m["name"] == "solution-end":
                    self.state = "end-fence"
                elif m and m["name"] in ("solution-start", "solution"):
                    raise ValueError(
                        f"{self.name}: cell {index} starts a solution inside the solution of "
                        f"{self.solutions[-1].exercise!r}; close that one with `:::{{solution-end}}` first"
                    )
            elif self.state == "block":
                opt = _OPTION.match(bare)
                if in_options and opt:
                    if opt["key"] == "label":
                        self.solutions[-1].label = opt["value"]
                    continue
                in_options = False
                # MyST nests colon fences with fewer colons inside; a run of at least as many
                # colons as the opening fence closes the solution block
                m_close = _FENCE_CLOSE.match(bare)
                if m_close and len(m_close["colons"]) >= self.block_colons:
                    self.state = "text"
        if self.state == "end-fence":
            # the cell ended right after `:::{solution-end}`: the marker is complete
            self.state = "text"
        if self.state == "block":
            raise ValueError(
                f"{self.name}: the `:::{{solution}}` block of {self.solutions[-1].exercise!r} in cell "
                f"{self.solutions[-1].cells[0]} is not closed within its cell; close it with "
                f"{':' * self.block_colons} or use the gated form (solution-start / solution-end)"
            )
        return kept, started

    def finish(self) -> None:
        if self.inside:
            sol = self.solutions[-1]
            raise ValueError(
                f"{self.name}: the solution of {sol.exercise!r} (cell {sol.cells[0]}) has no "
                "`:::{solution-end}` marker; add one after its last cell"
            )


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _clear(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    # cell ids exist from nbformat 4.5 on: give every cell one there, none before
    with_ids = (nb.nbformat, nb.nbformat_minor) >= (4, 5)
    seen: set[str] = set()
    for cell in nb.cells:
        if not with_ids:
            cell.pop("id", None)
        elif not cell.get("id") or cell["id"] in seen:
            cell["id"] = nbformat.v4.new_code_cell().id
        if with_ids:
            seen.add(cell["id"])
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return nb


def _note(sol: Solution) -> nbformat.NotebookNode:
    target = f" to exercise `{sol.exercise}`" if sol.exercise and sol.exercise != "?" else ""
    return nbformat.v4.new_markdown_cell(
        NOTE_TEMPLATE.format(target=target), metadata={"klviz": {"removed-solution": sol.exercise}}
    )


def _strip(nb: nbformat.NotebookNode, name: str) -> tuple[list, list[Solution]]:
    st = _Stripper(name)
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            was_inside = st.inside
            pieces, started = st.markdown(_source(cell), i)
            if not (started or was_inside):
                cells.append(copy.deepcopy(cell))
                continue
            # split the cell where a solution was: text before, the note, text after
            text: list[str] = []
            for piece in [*pieces, None]:
                if isinstance(piece, str):
                    text.append(piece)
                    continue
                if "".join(text).strip():
                    part = copy.deepcopy(cell)
                    part.source = "".join(text).strip("\n")
                    if any(c.get("id") == part.get("id") for c in cells):
                        part["id"] = nbformat.v4.new_markdown_cell().id
                    cells.append(part)
                text = []
                if piece is not None:
                    cells.append(_note(piece))
        elif st.inside:
            st.solutions[-1].cells.append(i)
            if cell.cell_type == "code":
                st.solutions[-1].code.append(_source(cell))
        else:
            cells.append(copy.deepcopy(cell))
    st.finish()
    return cells, st.solutions


def find_solutions(nb: nbformat.NotebookNode, *, name: str = "notebook") -> list[Solution]:
    """The worked solutions of ``nb``: exercise label, solution label, cells and code.

    Raises ``ValueError`` (naming ``name`` and the cell) for an unmatched start or end marker.
    """
    return _strip(nb, name)[1]


def _drop_references(text: str, labels: set[str]) -> str:
    """Turn ``{ref}`label``` / ``{numref}`text <label>``` to removed solutions into plain text."""
    if not labels:
        return text

    def repl(m: re.Match) -> str:
        body = m["body"]
        inner = re.match(r"^(?P<title>.*?)\s*<(?P<label>[^<>]+)>$", body, re.S)
        label = inner["label"] if inner else body
        if label.strip() not in labels:
            return m[0]
        title = inner["title"] if inner and inner["title"] else "its solution"
        return f"{title} (instructor edition)"

    return re.sub(r"\{(?:ref|numref|doc)\}`(?P<body>[^`]+)`", repl, text)


def student_notebook(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` without worked solutions and outputs, with a note where each one was.

    Raises ``ValueError`` naming ``name`` and the cell when a ``solution-start`` has no matching
    ``solution-end`` (or the reverse), since guessing where a solution ends could leak it.
    """
    cells, solutions = _strip(nb, name)
    cells = _with_checks([c for c in cells if not _is_quiz(c)])
    labels = {s.label for s in solutions if s.label}
    for cell in cells:
        if cell.cell_type == "markdown" and labels:
            cell.source = _drop_references(_source(cell), labels)
    out = copy.deepcopy(nb)
    out.cells = cells
    out.metadata.setdefault("klviz", {})["edition"] = "student"
    return _clear(out)


def _is_quiz(cell) -> bool:
    return cell.cell_type == "code" and (
        QUIZ_TAG in cell.get("metadata", {}).get("tags", []) or _QUIZ_CALL.search(_source(cell)) is not None)


def _with_checks(cells: list) -> list:
    # after the note of a removed solution whose exercise has an answer key: a check cell
    from klviz.quiz.answers import load_keys

    keys = load_keys()
    out = []
    for cell in cells:
        out.append(cell)
        label = cell.get("metadata", {}).get("klviz", {}).get("removed-solution")
        if label in keys:
            what = keys[label].get("what") or "a number or an option letter"
            out.append(nbformat.v4.new_code_cell(CHECK_TEMPLATE.format(label=label, what=what),
                                                 metadata={"klviz": {"check": label}}))
    return out


def instructor_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with every cell (solutions included) and no outputs."""
    out = copy.deepcopy(nb)
    out.metadata.setdefault("klviz", {})["edition"] = "instructor"
    return _clear(out)


def export(src: Path | str, out: Path | str, edition: str = "both") -> dict[str, list[Path]]:
    """Write the ``edition`` ("student", "instructor" or "both") of every ``src/*.ipynb`` to ``out/<edition>/``.

    Returns the written paths per edition.
    """
    if edition not in (*EDITIONS, "both"):
        raise ValueError(f"edition: {edition!r} is not one of 'student', 'instructor', 'both'")
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise ValueError(f"src: {src} is not a folder of notebooks; pass --src notebooks")
    editions = EDITIONS if edition == "both" else (edition,)
    written: dict[str, list[Path]] = {e: [] for e in editions}
    for path in sorted(src.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for ed in editions:
            result = student_notebook(nb, name=path.name) if ed == "student" else instructor_notebook(nb)
            nbformat.validate(result)
            dst = out / ed / path.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(result, dst)
            written[ed].append(dst)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``klviz-export --out DIR [--edition student|instructor|both] [--src notebooks]``."""
    parser = argparse.ArgumentParser(prog="klviz-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder (gets student/ and instructor/)")
    parser.add_argument("--edition", choices=[*EDITIONS, "both"], default="both")
    parser.add_argument("--src", type=Path, default=Path("notebooks"), help="folder of chapter notebooks")
    args = parser.parse_args(argv)
    try:
        written = export(args.src, args.out, args.edition)
    except ValueError as err:
        print(f"klviz-export: {err}", file=sys.stderr)
        return 2
    for ed, paths in written.items():
        print(f"{ed}: {len(paths)} notebooks in {args.out / ed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
