"""Two gloo processes on the CPU under torchrun give the single-process result.

Design that makes the comparison meaningful: ``--batch-size`` is the global batch (each rank
takes half), the data order of an epoch depends only on (seed, epoch) -- rank r of 2 takes
positions r, r+2, ... of the same permutation, so the two local batches together are exactly
the single process's batch -- the MLP has no BatchNorm or dropout, and the training set (400)
is a multiple of the global batch (100). What remains is floating-point summation order
(DDP averages two half-batch gradients), hence the tolerances below.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import torch

from klviz.distill.checkpoint import load_checkpoint

ARGS = ["--num-samples", "600", "--train-subset", "400", "--test-subset", "100", "--batch-size", "100",
        "--device", "cpu", "--quiet"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KLVIZ_DATA": str(tmp_path / "data")}
    run = lambda *a, **kw: subprocess.run([sys.executable, *a], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # noqa: E731
    p = run("-m", "klviz.distill", "teacher", "--run-dir", "t", "--epochs", "2", *ARGS)
    assert p.returncode == 0, p.stderr
    student = ["student", "--loss", "gkl", "--teacher", "t/best.pt", "--epochs", "3", *ARGS]
    p = run("-m", "klviz.distill", *student, "--run-dir", "single")
    assert p.returncode == 0, p.stderr
    p = run("-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
            "--master-port", str(_free_port()), "-m", "klviz.distill", *student, "--run-dir", "ddp")
    assert p.returncode == 0, p.stdout + p.stderr

    single = json.loads((tmp_path / "single/metrics.json").read_text())
    ddp = json.loads((tmp_path / "ddp/metrics.json").read_text())
    assert single["world_size"] == 1 and ddp["world_size"] == 2
    assert all(h["world_size"] == 2 for h in ddp["history"])
    for a, b in zip(single["history"], ddp["history"], strict=True):
        for k in ("train_loss", "train_ce", "train_distill", "test_loss"):
            assert abs(a[k] - b[k]) <= 1e-4 * abs(a[k]) + 1e-6, (k, a[k], b[k])
        # 100 test examples: allow one prediction to flip on a near-tie
        assert abs(a["test_acc"] - b["test_acc"]) <= 0.01 + 1e-12
        assert abs(a["train_acc"] - b["train_acc"]) <= 1 / 400 + 1e-12
        # class statistics were all-reduced: identical on both ranks after every epoch
        assert b["class_stats_rank_spread"] == 0.0

    # ... and equal to what one process accumulates over the whole training set
    cs1 = load_checkpoint(tmp_path / "single/last.pt")["class_stats"]
    cs2 = load_checkpoint(tmp_path / "ddp/last.pt")["class_stats"]
    assert int(cs1["epochs"]) == int(cs2["epochs"]) == 3
    torch.testing.assert_close(cs2["means"], cs1["means"], rtol=1e-4, atol=1e-6)
    m1 = load_checkpoint(tmp_path / "single/last.pt")["model_state"]
    m2 = load_checkpoint(tmp_path / "ddp/last.pt")["model_state"]
    for k in m1:
        torch.testing.assert_close(m2[k], m1[k], rtol=1e-3, atol=1e-5)
