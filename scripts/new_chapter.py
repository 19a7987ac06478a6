"""Create a chapter notebook with the two cells every chapter starts with.

    python scripts/new_chapter.py notebooks/06_kl_in_practice.ipynb "KL divergence in deep learning practice"

Cell 1 (markdown, hidden in the book): the notation macros for plain Jupyter/Colab.
Cell 2 (code, hidden in the book): install klviz when it is missing (as on Colab), seed, style.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from klviz.notation import macros_cell_source  # noqa: E402

INSTALL = """\
# Runs on Colab or a fresh laptop too: install klviz when it is missing.
try:
    import klviz
except ImportError:  # pragma: no cover - depends on the reader's machine
    %pip install --quiet "klviz @ git+https://github.com/klviz/klviz-book"
    import klviz

import numpy as np
import torch
from klviz.viz import apply_style

apply_style()
rng = np.random.default_rng(0)
torch.manual_seed(0)"""


def chapter(title: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(macros_cell_source(), metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell(INSTALL, metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell(f"# {title}"),
    ]
    return nb


if __name__ == "__main__":
    path, title = Path(sys.argv[1]), sys.argv[2]
    if path.exists():
        sys.exit(f"{path} exists; not overwriting it")
    nbformat.write(chapter(title), path)
    print(f"wrote {path}")
