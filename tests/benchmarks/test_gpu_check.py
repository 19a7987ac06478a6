"""benchmarks/gpu_check.py (make gpu-check): the no-CUDA message, and every check on the CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from klviz.losses import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_says_plainly_when_there_is_no_cuda():
    proc = run()
    assert proc.returncode == 0, proc.stderr
    if not torch.cuda.is_available():
        assert proc.stdout.startswith("no CUDA device: nothing run on a GPU")


def test_quick_cpu_run_checks_every_registered_loss():
    proc = run("--device", "cpu", "--quick")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "all checks passed" in out and " NO" not in out
    for name, spec in REGISTRY.items():
        for dtype in ("float32", "float16", "bfloat16"):
            assert any(line.startswith("precision") and f"{name}: value" in line and dtype in line
                       for line in out.splitlines()), (name, dtype)
        assert (f"{name}: fused vs autograd" in out) == spec.fused
    assert "dkl_loss / F.kl_div" in out
