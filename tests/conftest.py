"""Shared fixtures: the built book (built once per test session, warnings as errors)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def jupyter_book() -> str:
    exe = Path(sys.executable).parent / "jupyter-book"
    return str(exe) if exe.exists() else "jupyter-book"


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the whole book (executing every notebook, cached) and return ``_build/html``.

    ``KLVIZ_BUILT_BOOK=/path/to/html`` reuses an existing build instead (for authors).
    """
    prebuilt = os.environ.get("KLVIZ_BUILT_BOOK")
    if prebuilt:
        return Path(prebuilt)
    start = time.perf_counter()
    proc = subprocess.run(
        [jupyter_book(), "build", str(ROOT), "--builder", "html", "-W", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed = time.perf_counter() - start
    log = ROOT / "_build" / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-80:])
        pytest.fail(f"the book build failed (exit {proc.returncode}, {elapsed:.0f} s); log: {log}\n{tail}")
    print(f"\nbook built in {elapsed:.0f} s")
    return ROOT / "_build" / "html"
