"""Two gloo processes on the CPU under torchrun train the robust task like one process.

The batches split exactly (global batch 100, 400 examples, the MLP has no BatchNorm) and the
class statistics are all-reduced; what differs is the attack's random start (drawn per rank) and
summation order, so the metrics agree to a tolerance, the class statistics exactly across ranks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

ARGS = ["robust", "--method", "gkl_at", "--epochs", "2", "--train-subset", "400", "--batch-size", "100",
        "--device", "cpu", "--quiet"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = lambda *a: subprocess.run([sys.executable, *a], cwd=tmp_path, env=env, capture_output=True,  # noqa: E731
                                    text=True, timeout=300)
    p = run("-m", "klviz.distill", *ARGS, "--run-dir", "single")
    assert p.returncode == 0, p.stderr
    p = run("-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
            "--master-port", str(_free_port()), "-m", "klviz.distill", *ARGS, "--run-dir", "ddp")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("worst-case robust accuracy") == 1  # rank 0 reports
    single = json.loads((tmp_path / "single/metrics.json").read_text())
    ddp = json.loads((tmp_path / "ddp/metrics.json").read_text())
    assert ddp["world_size"] == 2 and ddp["done"]
    for a, b in zip(single["history"], ddp["history"], strict=True):
        assert b["class_stats_rank_spread"] == 0.0
        assert abs(a["train_loss"] - b["train_loss"]) <= 0.02 * abs(a["train_loss"])
        assert abs(a["test_acc"] - b["test_acc"]) <= 0.03
        assert abs(a["test_robust_acc"] - b["test_robust_acc"]) <= 0.05
