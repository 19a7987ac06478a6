"""Two gloo processes under torchrun train the VAE as one process does (the noise of the global
batch is split by position, as the examples are), up to floating-point summation order."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

ARGS = ["vae", "--train-subset", "400", "--test-subset", "100", "--batch-size", "100", "--epochs", "3",
        "--device", "cpu", "--quiet", "--latent-dim", "4", "--hidden", "32"]


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
    single = json.loads((tmp_path / "single/metrics.json").read_text())
    ddp = json.loads((tmp_path / "ddp/metrics.json").read_text())
    assert ddp["world_size"] == 2
    for a, b in zip(single["history"], ddp["history"], strict=True):
        for k in ("train_loss", "train_rate", "train_distortion", "test_rate", "test_distortion", "test_elbo"):
            assert abs(a[k] - b[k]) <= 1e-4 * abs(a[k]) + 1e-5, (k, a[k], b[k])
