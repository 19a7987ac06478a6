"""Shared fixtures: the Agg backend and closed figures for every test; the built book (built once
per test session, warnings as errors)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import pytest

# no display in tests: draw off-screen (before any test module imports pyplot)
matplotlib.use("Agg")

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


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every pyplot figure a test opened (figures hold memory and warn past 20)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


# --------------------------------------------------------------- losses (tests/losses/)
@pytest.fixture
def torch_seed() -> None:
    """Seed torch's global generator (tests that draw with torch.randn)."""
    import torch

    torch.manual_seed(0)


@pytest.fixture
def logit_pair():
    """``logit_pair(*shape, dtype=float64, scale=2.0, grad=True)``: random student and teacher logits."""
    import torch

    def pair(*shape, dtype=torch.float64, scale=2.0, grad=True):
        s = (scale * torch.randn(*shape, dtype=dtype)).requires_grad_(grad)
        t = (scale * torch.randn(*shape, dtype=dtype)).requires_grad_(grad)
        return s, t

    return pair


@pytest.fixture
def call_loss():
    """``call_loss(name, s, t, y, **kw)``: a registered loss, given ``y`` as its target when it
    needs one (or takes one and ``class_stats`` is passed), as the registry says."""
    from klviz.losses import get_spec

    def call(name, s, t, y, **kw):
        spec = get_spec(name)
        if spec.needs_target or (spec.accepts_target and "class_stats" in kw):
            return spec.fn(s, t, y, **kw)
        return spec.fn(s, t, **kw)

    return call
