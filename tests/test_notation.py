"""klviz.notation: the macros in their MathJax and LaTeX forms agree."""

from __future__ import annotations

from klviz.notation import MACROS, macros_cell_source, mathjax3_macros, newcommands


def test_notation_forms_agree():
    mj = mathjax3_macros()
    assert set(mj) == set(MACROS)
    assert mj["KL"] == [MACROS["KL"][0], 2] and mj["E"] == MACROS["E"][0]
    lines = newcommands().splitlines()
    assert len(lines) == len(MACROS)
    assert r"\newcommand{\KL}[2]{" in lines[0]
    assert macros_cell_source().startswith("$$\n") and macros_cell_source().endswith("\n$$")
