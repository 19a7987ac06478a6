"""The appendix "Errata in the sources" (book/errata.md): in the Appendices part, every erratum with
the source's claim, the computed value and where it is computed, and every number glued from a
chapter that really glues it (a missing key would only show up as a warning of the full build)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ERRATA = ROOT / "book" / "errata.md"
# {glue:text}`/notebooks/NN_x.ipynb::key:fmt` (or {glue}`...`): a value glued in another document
CROSS_GLUE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+\.ipynb)::([A-Za-z_][\w]*)(?::[^`]*)?`")


def glued_keys(nb: Path) -> list[re.Pattern]:
    """Patterns of the keys a notebook glues: literal keys, and f-string keys with their
    formatted parts as wildcards."""
    keys = []
    for cell in json.loads(nb.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "\n".join(line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
                        for line in "".join(cell["source"]).splitlines())
        for node in ast.walk(ast.parse(src)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            key = node.args[0]
            if name != "glue":
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.append(re.compile(re.escape(key.value)))
            elif isinstance(key, ast.JoinedStr):
                keys.append(re.compile("".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+"
                                               for v in key.values)))
            else:  # a variable key (a loop over names): any name-like string of the cell
                keys += [re.compile(re.escape(c.value)) for c in ast.walk(ast.parse(src))
                         if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value.isidentifier()]
    return keys


def cross_refs(page: Path) -> list[tuple[str, str]]:
    return CROSS_GLUE.findall(page.read_text())


def test_errata_page_is_an_appendix():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    appendices = next(p for p in toc["parts"] if p["caption"] == "Appendices")
    assert "book/errata" in [c["file"] for c in appendices["chapters"]], "book/errata in the Appendices part"
    assert re.search(r"^# Errata in the sources$", ERRATA.read_text(), re.M)


def test_every_erratum_has_claim_value_and_place():
    sections = re.split(r"^### ", ERRATA.read_text(), flags=re.M)[1:]
    errata = [s for s in sections if not s.startswith("Imprecise")]
    assert len(errata) >= 5
    for s in errata:
        title = s.splitlines()[0]
        assert "**Claim.**" in s, f"erratum {title!r}: the source's claim"
        assert "**Computed.**" in s or "**What holds.**" in s or "**What the code does.**" in s, \
            f"erratum {title!r}: the computed value (or what holds)"
        assert re.search(r"\*\*Where\.\*\* \{ref\}`(ch|ex)-", s), f"erratum {title!r}: where the book computes it"


def test_numbers_glued_from_chapters_exist():
    pages = [ERRATA, *sorted((ROOT / "book").glob("*.md")), *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    refs = {(page, doc, key) for page in dict.fromkeys(pages) for doc, key in cross_refs(page)}
    assert any(page == ERRATA for page, _, _ in refs), "the errata page glues its numbers from the chapters"
    missing = []
    cache: dict[Path, list[re.Pattern]] = {}
    for page, doc, key in sorted(refs, key=str):
        nb = (ROOT / doc.lstrip("/")) if doc.startswith("/") else (page.parent / doc)
        nb = nb.resolve()
        if not nb.is_file():
            missing.append(f"{page.name}: {doc} does not exist")
            continue
        patterns = cache.setdefault(nb, glued_keys(nb))
        if not any(p.fullmatch(key) for p in patterns):
            missing.append(f"{page.name}: {nb.name} glues no {key!r}")
    assert not missing, "\n".join(missing)


def test_cross_document_glue_carries_a_format():
    # myst-nb splits `path::key` at its last colon when no format follows, so
    # `/nb.ipynb::key` reads as key '/nb.ipynb:' with format 'key' (a build warning)
    text = (ROOT / "book" / "errata.md").read_text()
    bare = re.findall(r"\{glue(?::\w+)?\}`[^`]*::[A-Za-z_]\w*`", text)
    assert not bare, f"give each cross-document glue a format, e.g. ::key:.3f or ::key:d: {bare}"
