"""The book's own checks: toc, notebooks stored clean, macros in sync, and the -W build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from klviz.notation import macros_cell_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def resolve(entry: str) -> Path | None:
    for suffix in ("", ".md", ".ipynb"):
        p = ROOT / f"{entry}{suffix}"
        if p.is_file():
            return p
    return None


def test_every_toc_entry_exists():
    missing = [f for f in toc_files() if resolve(f) is None]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


def test_every_notebook_is_in_the_toc():
    listed = {resolve(f) for f in toc_files()}
    orphans = [nb.name for nb in NOTEBOOKS if nb not in listed]
    assert not orphans, f"notebooks missing from _toc.yml: {orphans}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stored_without_outputs(nb):
    data = json.loads(nb.read_text())
    dirty = [i for i, c in enumerate(data["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{nb.name}: cells {dirty} store outputs; strip them (the build executes notebooks)"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_macros_and_install(nb):
    cells = json.loads(nb.read_text())["cells"]
    assert "".join(cells[0]["source"]) == macros_cell_source(), (
        f"{nb.name}: the first cell must be the macro cell of klviz.notation (scripts/new_chapter.py writes it)"
    )
    assert "remove-cell" in cells[0]["metadata"].get("tags", [])
    install = "".join(cells[1]["source"])
    assert "import klviz" in install and "pip install" in install, f"{nb.name}: cell 2 must install klviz when missing"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_text_progress_bars(nb):
    src = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
    assert not re.search(r"tqdm\.(auto|notebook)", src), f"{nb.name}: use `from tqdm import tqdm` (no widget bars in pages)"


@pytest.mark.book
def test_book_builds_with_warnings_as_errors(built_book):
    index = built_book / "index.html"
    assert index.exists()
    for entry in toc_files():
        page = built_book / f"{entry}.html"
        assert page.exists(), f"{page} was not built"
    # every executed chapter has its notebook for download
    for nb in NOTEBOOKS:
        assert (built_book / "_sources" / "notebooks" / nb.name).exists(), f"{nb.name} has no download copy"


def test_notation_page_lists_every_macro():
    from klviz.notation import MACROS

    page = (ROOT / "book" / "notation.md").read_text()
    missing = [m for m in MACROS if f"`\\{m}" not in page and f"\\{m}`" not in page and f"`\\{m}{{" not in page]
    assert not missing, f"book/notation.md does not list: {missing}"


@pytest.mark.book
def test_every_captioned_figure_was_drawn(built_book):
    """A captioned figure cell that produced no image is a figure the reader never sees."""
    executed = built_book.parent / "jupyter_execute" / "notebooks"
    missing = []
    for nb in NOTEBOOKS:
        path = executed / nb.name
        assert path.exists(), f"no executed copy of {nb.name} in {executed}"
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("mystnb", {})
            if cell["cell_type"] == "code" and "figure" in meta:
                if not any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}) for o in cell.get("outputs", [])):
                    missing.append(f"{nb.name}: {meta['figure'].get('name')}")
    assert not missing, "figure cells without an image:\n" + "\n".join(missing)


@pytest.mark.book
def test_no_typographic_replacement_mangles_the_text(built_book):
    """MyST's `replacements` turned "O(C)" into "O©"; the copyright sign belongs in the footer only."""
    bad = []
    for page in sorted(built_book.glob("**/*.html")):
        main = page.read_text(errors="replace").split('<footer', 1)[0]
        if "©" in main or "™" in main or "®" in main:
            bad.append(str(page.relative_to(built_book)))
    assert not bad, f"pages with ©/™/® in their text: {bad}"
