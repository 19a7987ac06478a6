"""Every chapter has the parts a reader, a student and an instructor expect.

Structure only (the build executes the code): learning objectives, a summary, exercises with
gated solutions, a sympy derivation, a figure with caption and alt text, a local ipywidgets
explorer whose output is kept out of the web page, and a kernel-free slider for the web page.
"""

from __future__ import annotations

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
