"""scripts/diff_builds.py: pairs chapters by label and lists every changed glue value or printed line."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("diff_builds", ROOT / "scripts" / "diff_builds.py")
diff_builds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diff_builds)


def _write(build: Path, name: str, label: str, glue: dict[str, str], printed: str) -> None:
    folder = build / "jupyter_execute" / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    outputs = [{"output_type": "display_data", "metadata": {"scrapbook": {"name": k, "mime_prefix": ""}},
                "data": {"text/plain": v}} for k, v in glue.items()]
    outputs.append({"output_type": "stream", "name": "stdout", "text": printed})
    nb = {"cells": [{"cell_type": "markdown", "source": f"({label})=\n# Title", "metadata": {}},
                    {"cell_type": "code", "source": "x", "metadata": {}, "outputs": outputs}]}
    (folder / name).write_text(json.dumps(nb))


def test_identical_builds_agree_even_when_renamed(tmp_path, capsys):
    _write(tmp_path / "a", "05_kl.ipynb", "ch-kl", {"h": "0.693"}, "KL = 0.1\n")
    _write(tmp_path / "b", "07_kl.ipynb", "ch-kl", {"h": "0.693"}, "KL = 0.1\n")
    assert diff_builds.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    assert "No difference" in capsys.readouterr().out


def test_changed_glue_and_printed_number_are_listed(tmp_path, capsys):
    _write(tmp_path / "a", "05_kl.ipynb", "ch-kl", {"h": "0.693", "g": "1"}, "KL = 0.1\nok\n")
    _write(tmp_path / "b", "05_kl.ipynb", "ch-kl", {"h": "0.694", "g": "1"}, "KL = 0.10001\nok\n")
    out_md = tmp_path / "diff.md"
    assert diff_builds.main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out_md)]) == 1
    report = out_md.read_text()
    assert "glue `h`: `0.693` -> `0.694`" in report and "glue `g`" not in report
    assert "-KL = 0.1" in report and "+KL = 0.10001" in report
    # within a relative tolerance the printed line agrees, the glued 0.693 -> 0.694 does not
    assert diff_builds.main([str(tmp_path / "a"), str(tmp_path / "b"), "--rtol", "1e-3"]) == 1
    assert "KL = 0.1" not in capsys.readouterr().out.split("glue")[-1]


def test_missing_chapter_is_reported(tmp_path):
    _write(tmp_path / "a", "05_kl.ipynb", "ch-kl", {}, "")
    _write(tmp_path / "a", "06_x.ipynb", "ch-x", {}, "")
    _write(tmp_path / "b", "05_kl.ipynb", "ch-kl", {}, "")
    lines = diff_builds.compare(tmp_path / "a", tmp_path / "b", 0.0)
    assert lines == ["- `ch-x`: only in the before build"]


def test_glue_sidecar_of_a_built_page_is_read(tmp_path):
    for side, value in (("a", "0.1"), ("b", "0.2")):
        _write(tmp_path / side, "05_kl.ipynb", "ch-kl", {}, "")
        sidecar = tmp_path / side / "jupyter_execute" / "notebooks" / "05_kl.glue.json"
        sidecar.write_text(json.dumps({"kl": {"output_type": "display_data", "metadata": {},
                                              "data": {"text/plain": value}}}))
    assert diff_builds.compare(tmp_path / "a", tmp_path / "b", 0.0)[1] == "- glue `kl`: `0.1` -> `0.2`"


def test_streams_merged_in_place_by_myst_nb_count_once(tmp_path):
    for side, texts in (("a", ["x = 1\ny = 2\n"]), ("b", ["x = 1\ny = 2\n", "y = 2\n"])):
        folder = tmp_path / side / "jupyter_execute" / "notebooks"
        folder.mkdir(parents=True)
        outs = [{"output_type": "stream", "name": "stdout", "text": s} for s in texts]
        nb = {"cells": [{"cell_type": "markdown", "source": "(ch-a)=\n# A", "metadata": {}},
                        {"cell_type": "code", "source": "", "metadata": {}, "outputs": outs}]}
        (folder / "01_a.ipynb").write_text(json.dumps(nb))
    assert diff_builds.compare(tmp_path / "a", tmp_path / "b", 0.0) == []


def test_rtol_must_be_a_finite_non_negative_number(tmp_path):
    import pytest

    for bad in ("nan", "inf", "-1"):
        with pytest.raises(SystemExit) as exit_:
            diff_builds.main([str(tmp_path), str(tmp_path), "--rtol", bad])
        assert exit_.value.code == 2
