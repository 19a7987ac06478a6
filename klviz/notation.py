"""The book's notation, as LaTeX macros shared by the built book and plain Jupyter.

The single source of truth: the book's Sphinx extension (``book/_ext/klviz_book.py``)
passes :data:`MACROS` to MathJax, and every notebook carries a hidden markdown cell
that defines the same macros for a plain Jupyter or Colab session
(``tests/test_book.py`` checks that the two agree).
"""

from __future__ import annotations

#: name -> (body, number of arguments)
MACROS: dict[str, tuple[str, int]] = {
    "KL": (r"D_{\mathrm{KL}}\left(#1\,\middle\|\,#2\right)", 2),
    "JS": (r"D_{\mathrm{JS}}\left(#1\,\middle\|\,#2\right)", 2),
    "Ent": (r"\operatorname{H}\left(#1\right)", 1),
    "CE": (r"\operatorname{H}\left(#1,#2\right)", 2),
    "E": (r"\mathbb{E}", 0),
    "Var": (r"\operatorname{Var}", 0),
    "R": (r"\mathbb{R}", 0),
    "softmax": (r"\operatorname{softmax}", 0),
    "sg": (r"\operatorname{S}", 0),
    "vz": (r"\mathbf{z}", 0),
    "vx": (r"\mathbf{x}", 0),
    "vp": (r"\mathbf{p}", 0),
    "vq": (r"\mathbf{q}", 0),
    "vo": (r"\mathbf{o}", 0),
    "vs": (r"\mathbf{s}", 0),
    "vw": (r"\mathbf{w}", 0),
    "vd": (r"\mathbf{d}", 0),
    "vmu": (r"\boldsymbol{\mu}", 0),
    "vsigma": (r"\boldsymbol{\sigma}", 0),
    "Normal": (r"\mathcal{N}", 0),
    "dd": (r"\mathrm{d}", 0),
    "wmse": (r"\operatorname{wMSE}", 0),
    "CondEnt": (r"\operatorname{H}\left(#1\,\middle|\,#2\right)", 2),
    "MI": (r"\operatorname{I}\left(#1;#2\right)", 2),
    "CMI": (r"\operatorname{I}\left(#1;#2\,\middle|\,#3\right)", 3),
    "Df": (r"D_{f}\left(#1\,\middle\|\,#2\right)", 2),
    "Dalpha": (r"D_{\alpha}\left(#1\,\middle\|\,#2\right)", 2),
    "TV": (r"\operatorname{TV}", 0),
    "ELBO": (r"\operatorname{ELBO}", 0),
}


def mathjax3_macros() -> dict[str, object]:
    """Macros in the form MathJax 3's ``tex.macros`` option expects."""
    return {k: (body if n == 0 else [body, n]) for k, (body, n) in MACROS.items()}


def newcommands() -> str:
    r"""The macros as ``\newcommand`` lines, for a markdown cell in a notebook."""
    lines = []
    for name, (body, n) in MACROS.items():
        arg = f"[{n}]" if n else ""
        lines.append(rf"\newcommand{{\{name}}}{arg}{{{body}}}")
    return "\n".join(lines)


def macros_cell_source() -> str:
    """The markdown source of the hidden macro cell at the top of every chapter."""
    return "$$\n" + newcommands() + "\n$$"
