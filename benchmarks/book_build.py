"""Cold and warm build times of the book, with the slowest notebooks.

    python benchmarks/book_build.py            # writes benchmarks/results/book_build.md

Cold: a fresh output folder (no execution cache): every notebook is executed.
Warm: the HTML and doctrees are removed but the execution cache is kept, as after a change
to the book's configuration or theme: every page is rebuilt, no notebook is executed.
Both builds use the book's own settings (``-W --keep-going``) in a temporary folder, so the
repository's ``_build`` is left alone.

Budget (2 CPU cores, all twelve chapters once they exist): a cold build within 15 minutes and
every chapter within 3 minutes; a warm build within a minute. The script exits with status 1
when a measurement is over its budget, naming it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_BUDGET_S = 900.0
WARM_BUDGET_S = 60.0
CHAPTER_BUDGET_S = 180.0
EXECUTED = re.compile(r"notebooks/(\S+?\.ipynb): Executed notebook in ([0-9.]+) seconds")


def build(out: Path) -> tuple[float, str]:
    jb = Path(sys.executable).parent / "jupyter-book"
    start = time.perf_counter()
    proc = subprocess.run(
        [str(jb) if jb.exists() else "jupyter-book", "build", str(ROOT), "--builder", "html",
         "-W", "--keep-going", "--path-output", str(out)],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - start
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"build failed ({proc.returncode}):\n" + "\n".join(log.splitlines()[-40:]))
    return elapsed, log


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "book_build.md"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="klviz-book-") as tmp:
        out = Path(tmp)
        cold, log = build(out)
        per_nb = sorted(((float(t), nb) for nb, t in EXECUTED.findall(log)), reverse=True)
        shutil.rmtree(out / "_build" / "html")
        shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
        warm, warm_log = build(out)
        if EXECUTED.search(warm_log):
            sys.exit("the warm build executed notebooks: the cache did not hit")
    machine = f"{platform.machine()} CPU, {os.cpu_count()} logical cores, Python {platform.python_version()}"
    lines = [
        f"Measured with `python benchmarks/book_build.py` on {machine} "
        f"({time.strftime('%Y-%m-%d')}).",
        "",
        "| build | wall time | target |",
        "|---|---:|---:|",
        f"| cold (every notebook executed) | {cold:.0f} s | ≤ {COLD_BUDGET_S:.0f} s |",
        f"| warm (execution cache hit, every page rebuilt) | {warm:.0f} s | ≤ {WARM_BUDGET_S:.0f} s |",
        "",
        f"| notebook (slowest first) | execution time | target |",
        "|---|---:|---:|",
        *[f"| `{nb}` | {t:.1f} s | ≤ {CHAPTER_BUDGET_S:.0f} s |" for t, nb in per_nb],
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    over = [f"cold build {cold:.0f} s > {COLD_BUDGET_S:.0f} s"] if cold > COLD_BUDGET_S else []
    over += [f"warm build {warm:.0f} s > {WARM_BUDGET_S:.0f} s"] if warm > WARM_BUDGET_S else []
    over += [f"{nb} {t:.0f} s > {CHAPTER_BUDGET_S:.0f} s" for t, nb in per_nb if t > CHAPTER_BUDGET_S]
    if over:
        sys.exit("over budget: " + "; ".join(over))


if __name__ == "__main__":
    main()
