"""Kill the CLI with SIGKILL mid-run, resume it, and get bitwise the numbers of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from klviz.distill.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

ARGS = ["--num-samples", "2000", "--batch-size", "40", "--test-subset", "200", "--quiet"]


def _env(tmp):
    # one thread: the same reduction order in every process, and kind to a shared machine
    return {**os.environ, "OMP_NUM_THREADS": "1", "KLVIZ_DATA": str(tmp / "data")}


def _run(args, cwd, env, **kw):
    return subprocess.run([sys.executable, "-m", "klviz.distill", *args], cwd=cwd, env=env, capture_output=True, text=True, **kw)


def _strip(history):
    return [{k: v for k, v in h.items() if k != "epoch_time_s"} for h in history]


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    env = _env(tmp_path)
    p = _run(["teacher", "--run-dir", "t", "--epochs", "2", *ARGS], tmp_path, env, timeout=120)
    assert p.returncode == 0, p.stderr
    student = ["student", "--loss", "gkl", "--teacher", "t/best.pt", "--epochs", "8", "--warmup-epochs", "2", *ARGS]

    p = _run([*student, "--run-dir", "full"], tmp_path, env, timeout=300)
    assert p.returncode == 0, p.stderr

    proc = subprocess.Popen([sys.executable, "-m", "klviz.distill", *student, "--run-dir", "cut"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = tmp_path / "cut" / "last.pt"
    deadline = time.monotonic() + 120
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # land somewhere inside a later epoch, possibly while a checkpoint is written
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = load_checkpoint(last)["epoch"]
    assert 1 <= done < 8, "the run finished before it could be killed"
    assert not json.loads((tmp_path / "cut" / "metrics.json").read_text())["done"]

    p = _run([*student, "--run-dir", "cut", "--resume"], tmp_path, env, timeout=300)
    assert p.returncode == 0, p.stderr

    full = json.loads((tmp_path / "full" / "metrics.json").read_text())
    cut = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert _strip(cut["history"]) == _strip(full["history"])  # bitwise: floats compared with ==
    assert (cut["best_test_acc"], cut["last_test_acc"]) == (full["best_test_acc"], full["last_test_acc"])
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(last)
    assert all(torch.equal(a["model_state"][k], b["model_state"][k]) for k in a["model_state"])
    assert all(torch.equal(a["class_stats"][k], b["class_stats"][k]) for k in a["class_stats"])
    assert all(torch.equal(x, y) for x, y in zip(a["optimizer"]["state"][0].values(), b["optimizer"]["state"][0].values()))
    rows = (tmp_path / "cut" / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 8  # header + one row per epoch, none duplicated by the restart
