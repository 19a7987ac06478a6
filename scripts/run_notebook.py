"""Execute notebooks on a fresh kernel, as the book build does, and report failures and time.

    python scripts/run_notebook.py notebooks/02_entropy.ipynb [more.ipynb ...]

The executed copy goes to _build/executed/ (the source stays without outputs).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("KLVIZ_BOOK_BUILD", "1")
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    out = ROOT / "_build" / "executed" / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return elapsed


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        p = Path(arg).resolve()
        t = run(p)
        print(f"{p.name}: executed in {t:.1f} s -> _build/executed/{p.name}")
