"""List every difference in the glued values and printed text of two executed builds.

    python scripts/diff_builds.py BEFORE/_build AFTER/_build [--rtol 0] [--out diff.md]

A refactor should change no number a reader sees. This script reads the executed notebooks
of two book builds (``_build/jupyter_execute/notebooks/*.ipynb``), pairs the chapters by
their label (``(ch-kl)=``), not by file name, so renamed notebooks still pair up, and
compares, chapter by chapter:

- every glued value (``myst_nb.glue``), by name: the text a page shows (read from the cell
  outputs, or from the ``NAME.glue.json`` file myst-nb writes beside a built page);
- the printed text of the code cells (stdout and ``text/plain`` results), in order.

Numbers inside the text are compared with a relative tolerance (``--rtol``, default 0:
any change is listed). Figures (PNG), HTML and widget outputs are not compared. The exit
status is 1 when something differs, so the script can gate a change.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

LABEL = re.compile(r"^\((ch-[a-z0-9-]+)\)=", re.M)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
GLUE_PREFIX = "application/papermill.record/"


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def read_chapter(path: Path) -> tuple[str, dict[str, str], list[str]]:
    """(label, {glue name: text/plain}, [printed line, ...]) of one executed notebook."""
    nb = json.loads(path.read_text())
    md = "\n".join(_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    m = LABEL.search(md)
    label = m.group(1) if m else path.stem
    glued: dict[str, str] = {}
    printed: list[str] = []
    for cell in nb["cells"]:
        outputs = cell.get("outputs", [])
        streams = [_text(o["text"]) for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"]
        # myst-nb's merge_streams appends later stdout outputs to the first one in place and
        # saves the notebook with the later ones still there: the page shows the merged text once
        merged = len(streams) > 1 and all(s.strip() in streams[0] for s in streams[1:])
        seen_stream = False
        for out in outputs:
            if merged and out.get("output_type") == "stream" and out.get("name") == "stdout":
                if seen_stream:
                    continue
                seen_stream = True
            meta = out.get("metadata", {}).get("scrapbook")
            data = out.get("data", {})
            if meta:
                plain = data.get(GLUE_PREFIX + "text/plain", data.get("text/plain", ""))
                glued[meta["name"]] = _text(plain)
            elif out.get("output_type") == "stream" and out.get("name") == "stdout":
                printed.extend(_text(out["text"]).splitlines())
            elif "text/plain" in data and not ({"image/png", "text/html"} & set(data)):
                printed.extend(_text(data["text/plain"]).splitlines())
    # myst-nb moves the glued outputs of a built page into a sidecar NAME.glue.json
    sidecar = path.with_suffix(".glue.json")
    if sidecar.exists():
        for name, out in json.loads(sidecar.read_text()).items():
            data = out.get("data", {})
            glued[name] = _text(data.get("text/plain", data.get(GLUE_PREFIX + "text/plain", "")))
    # progress bars are not results; object addresses change every run
    printed = [re.sub(r"0x[0-9a-f]+", "0x…", ln) for ln in printed if not re.search(r"it/s|s/it|\d+%\|", ln)]
    return label, glued, printed


def same(a: str, b: str, rtol: float) -> bool:
    """Equal text, or equal text with every number within ``rtol`` (relative)."""
    if a == b:
        return True
    if rtol <= 0 or NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
        fx, fy = float(x), float(y)
        if abs(fx - fy) > rtol * max(abs(fx), abs(fy)):
            return False
    return True


def compare(before: Path, after: Path, rtol: float) -> list[str]:
    """Markdown lines describing every difference (empty when the builds agree)."""
    def chapters(root: Path) -> dict[str, tuple[str, dict[str, str], list[str]]]:
        found = sorted((root / "jupyter_execute" / "notebooks").glob("*.ipynb"))
        if not found:
            sys.exit(f"no executed notebooks under {root}/jupyter_execute/notebooks: build the book first")
        return {lab: (p.name, g, t) for p in found for lab, g, t in [read_chapter(p)]}

    old, new = chapters(before), chapters(after)
    lines: list[str] = []
    for label in sorted(set(old) | set(new)):
        if label not in new or label not in old:
            lines.append(f"- `{label}`: only in the {'before' if label in old else 'after'} build")
            continue
        (fa, ga, ta), (fb, gb, tb) = old[label], new[label]
        head = f"### `{label}` ({fa} -> {fb})"
        diffs = []
        for name in sorted(set(ga) | set(gb)):
            va, vb = ga.get(name), gb.get(name)
            if va is None or vb is None or not same(va, vb, rtol):
                diffs.append(f"- glue `{name}`: `{va}` -> `{vb}`")
        if len(ta) != len(tb) or not all(same(a, b, rtol) for a, b in zip(ta, tb)):
            for ln in difflib.unified_diff(ta, tb, "before", "after", lineterm="", n=0):
                if not ln.startswith(("---", "+++", "@@")):
                    diffs.append(f"    {ln}")
        if diffs:
            lines += [head, *diffs, ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path, help="the _build folder of the first build")
    ap.add_argument("after", type=Path, help="the _build folder of the second build")
    ap.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (default 0)")
    ap.add_argument("--out", type=Path, help="also write the report to this Markdown file")
    args = ap.parse_args(argv)
    if not 0 <= args.rtol < float("inf"):
        ap.error(f"--rtol must be >= 0, got {args.rtol}")
    lines = compare(args.before, args.after, args.rtol)
    report = "\n".join(lines) if lines else "No difference in glued values or printed text."
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
