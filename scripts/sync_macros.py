"""Rewrite the hidden macro cell (cell 1) of every chapter from klviz.notation.MACROS.

    python scripts/sync_macros.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from klviz.notation import macros_cell_source  # noqa: E402

for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[0]
    if cell.cell_type != "markdown" or "\\newcommand" not in cell.source:
        sys.exit(f"{path.name}: cell 1 is not the macro cell; create chapters with scripts/new_chapter.py")
    if cell.source != macros_cell_source():
        cell.source = macros_cell_source()
        nbformat.write(nb, path)
        print(f"updated {path.name}")
