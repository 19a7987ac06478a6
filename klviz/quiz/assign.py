"""Graded assignments with hidden tests, made with otter-grader from the book's exercises.

    python -m klviz.quiz.assign --out _build/assignments [--chapters 02_entropy,...]   (make assignments)

For every chapter with auto-gradable exercises (:data:`GRADED`) this writes an otter "master"
notebook -- the chapter's macros, the exercise prompts taken from the chapter's gated
``:::{exercise}`` blocks, a reference solution and two tests per exercise -- and runs
``otter assign`` on it (PDFs off), which gives

- ``<out>/<chapter>/student/<chapter>.ipynb``: the prompts and ``answer_... = ...`` placeholders
  (no solution, no hidden test);
- ``<out>/<chapter>/autograder/``: the notebook with solutions and the autograder zip.

An instructor grades a submission without Docker::

    otter run -a _build/assignments/02_entropy/autograder/02_entropy-autograder_*.zip \\
        -o results/ submission.ipynb

Auto-gradable means: the exercise asks for one number that a few lines of numpy compute in
seconds. Each exercise is worth 1 point: a public test (0 points, the student sees it: is the
answer a number?) and a hidden test (1 point) that calls :func:`klviz.quiz.check` against the
exercise's answer key, so the hidden test carries no answer either. Proofs, explanations and
training runs (``ch-lab``, ``ch-gkl``'s learning-rate sweep) are for a human grader.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from klviz.quiz.answers import load_keys

__all__ = ["Graded", "GRADED", "answer_name", "master_notebook", "build", "main"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SETUP = "import numpy as np\nfrom scipy.optimize import brentq\n\nfrom klviz import info"


@dataclass(frozen=True)
class Graded:
    """One auto-gradable exercise: its label and a reference solution (lines of Python whose
    last line sets :func:`answer_name`)."""

    label: str
    solution: tuple[str, ...]


def answer_name(label: str) -> str:
    """The variable a student sets for exercise ``label``: ``ex-ent-dice`` -> ``answer_ent_dice``."""
    return "answer_" + label.removeprefix("ex-").replace("-", "_")


def _g(label: str, *lines: str) -> Graded:
    return Graded(label, (*lines[:-1], f"{answer_name(label)} = {lines[-1]}"))


GRADED: dict[str, tuple[Graded, ...]] = {
    "01_probability_softmax": (
        _g("ex-prob-fair-die", "faces = np.arange(1, 7)", "float(np.mean(faces**2) - np.mean(faces)**2)"),
        _g("ex-prob-bayes-sequential", "first = 0.9 * 0.02 / (0.9 * 0.02 + 0.05 * 0.98)",
           "0.9 * first / (0.9 * first + 0.05 * (1 - first))"),
    ),
    "02_entropy": (
        _g("ex-ent-dice", "float(info.entropy(np.array([0.1] * 5 + [0.5]), base=2))"),
        _g("ex-ent-half-bit", "brentq(lambda p: info.binary_entropy(p, base=2) - 0.5, 1e-9, 0.5)"),
    ),
    "03_cross_entropy": (
        _g("ex-ce-uniform", "float(np.log(10))"),
        _g("ex-ce-source-3", "float(-np.log(0.8))"),
    ),
    "04_kl_divergence": (
        _g("ex-kl-coins", "float(info.kl_divergence(np.array([0.5, 0.5]), np.array([0.9, 0.1]), base=2))"),
        _g("ex-kl-reduction", "50_257"),
    ),
    "06_kl_in_practice": (
        _g("ex-practice-vae-kl", "mu, sigma = np.array([0.5, -1.0]), np.array([0.8, 1.5])",
           "float(0.5 * (mu**2 + sigma**2 - 1 - np.log(sigma**2)).sum())"),
    ),
    "08_dkl_decomposition": (
        _g("ex-dkl-two-classes", "s = info.softmax(np.array([2.0, 0.0]))", "d = np.array([2.0, -1.0])",
           "float(0.5 * s[0] * s[1] * (d[0] - d[1]) ** 2)"),
    ),
}

_ROLES = [
    (re.compile(r"\{(?:numref|ref|prf:ref|doc)\}`([^`<]*?)\s*<[^`]*>`"), r"\1"),  # {ref}`text <label>`
    (re.compile(r"\{numref\}`fig-[^`]*`"), "the chapter's figure"),
    (re.compile(r"\{eq\}`([^`]*)`"), r"the chapter's equation (\1)"),
    (re.compile(r"\{(?:ref|prf:ref|numref|doc)\}`([^`]*)`"), r"\1 (in the book)"),
    (re.compile(r"\s*\{cite(?::[pt])?\}`[^`]*`"), ""),
]


def _plain(text: str) -> str:
    # MyST roles have no meaning in Jupyter: say in words what they point at
    for pattern, repl in _ROLES:
        text = pattern.sub(repl, text)
    return text


def _exercise(cells: list, label: str) -> tuple[str, str]:
    """The title and the prompt of exercise ``label`` in a chapter's cells."""
    pattern = re.compile(r":::\{exercise\}\s*(?P<title>[^\n]*)\n:label: " + re.escape(label)
                         + r"\n(?P<body>.*?)\n:::", re.S)
    for cell in cells:
        m = pattern.search("".join(cell["source"])) if cell["cell_type"] == "markdown" else None
        if m:
            return m["title"].strip(), _plain(m["body"].strip())
    raise ValueError(f"label: no exercise {label!r} in the chapter; GRADED names a removed exercise")


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def _test(code: str, *, points: int, hidden: bool):
    config = f'""" # BEGIN TEST CONFIG\npoints: {points}\nhidden: {str(hidden).lower()}\n""" # END TEST CONFIG\n'
    return nbformat.v4.new_code_cell(config + code)


def master_notebook(chapter: str, graded: Sequence[Graded], notebooks: Path = NOTEBOOKS):
    """The otter master notebook of ``chapter`` (a notebook stem, e.g. ``"02_entropy"``)."""
    path = Path(notebooks) / f"{chapter}.ipynb"
    if not path.exists():
        raise ValueError(f"chapter: {path} does not exist; pass a notebook stem like 02_entropy")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    keys = load_keys()
    title = next(line[2:] for c in cells if c["cell_type"] == "markdown"
                 for line in "".join(c["source"]).splitlines() if line.startswith("# "))
    config = {"name": f"hw-{chapter}", "init_cell": True, "check_all_cell": False, "export_cell": False,
              "run_tests": True, "solutions_pdf": False, "template_pdf": False,
              "generate": {"pdf": False, "zips": False}}
    v4 = nbformat.v4
    out = [_raw("# ASSIGNMENT CONFIG\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in config.items())),
           v4.new_markdown_cell("".join(cells[0]["source"])),  # the book's macros
           v4.new_markdown_cell(
               f"# Assignment: {title}\n\nFor each exercise, set the variable it names and run the "
               "`grader.check` cell below it: it runs the public test (is your answer a number?). "
               "Your instructor grades with hidden tests. Worth 1 point each."),
           v4.new_code_cell(SETUP)]
    for g in graded:
        if g.label not in keys:
            raise ValueError(f"graded: {g.label} has no answer key; add one with python -m klviz.quiz key")
        name, (ex_title, prompt) = answer_name(g.label), _exercise(cells, g.label)
        what = keys[g.label].get("what") or "your answer"
        solution = "\n".join(f"{line}  # SOLUTION" for line in g.solution)
        out += [_raw(f"# BEGIN QUESTION\nname: {g.label}"),
                v4.new_markdown_cell(f"**{ex_title}** (`{g.label}`)\n\n{prompt}\n\n"
                                     f"Set `{name}` to {what}."),
                _raw("# BEGIN SOLUTION"), v4.new_code_cell(solution), _raw("# END SOLUTION"),
                _raw("# BEGIN TESTS"),
                _test(f"assert isinstance({name}, (int, float)), 'set {name} to a number'",
                      points=0, hidden=False),
                _test(f"from klviz.quiz import check\nassert check({g.label!r}, {name})",
                      points=1, hidden=True),
                _raw("# END TESTS"), _raw("# END QUESTION")]
    nb = v4.new_notebook(cells=out)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def build(out: Path | str, chapters: Sequence[str] | None = None,
          notebooks: Path = NOTEBOOKS) -> dict[str, Path]:
    """Write the master notebook of each chapter and run ``otter assign`` on it; returns the
    folder of each chapter's assignment (``student/`` and ``autograder/`` inside)."""
    chosen = list(GRADED) if chapters is None else list(chapters)
    unknown = [c for c in chosen if c not in GRADED]
    if unknown:
        raise ValueError(f"chapters: {unknown} have no graded exercises; choose from {list(GRADED)}")
    out = Path(out)
    written = {}
    for chapter in chosen:
        folder = out / chapter
        master = out / "masters" / f"{chapter}.ipynb"
        master.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(master_notebook(chapter, GRADED[chapter], notebooks), master)
        # otter assign refuses to write into a folder with files of an earlier run
        for old in sorted(folder.rglob("*"), reverse=True) if folder.exists() else []:
            old.unlink() if old.is_file() else old.rmdir()
        done = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-pdfs", str(master), str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0 or "failed" in done.stdout.lower():
            raise RuntimeError(f"otter assign failed for {chapter} (a reference solution does not pass "
                               f"its tests?):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        written[chapter] = folder
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m klviz.quiz.assign --out DIR [--chapters a,b]``."""
    parser = argparse.ArgumentParser(prog="python -m klviz.quiz.assign", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("_build/assignments"), help="output folder")
    parser.add_argument("--chapters", default="", help=f"comma-separated notebook stems (default: all of "
                                                       f"{', '.join(GRADED)})")
    args = parser.parse_args(argv)
    chapters = [c.strip() for c in args.chapters.split(",") if c.strip()] or None
    try:
        written = build(args.out, chapters)
    except (ValueError, RuntimeError) as err:
        print(f"klviz.quiz.assign: {err}", file=sys.stderr)
        return 2
    for chapter, folder in written.items():
        n = len(GRADED[chapter])
        print(f"{chapter}: {n} graded exercise{'s' * (n > 1)} -> {folder}/student, {folder}/autograder")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
