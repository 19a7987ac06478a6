"""The VAE trainer: deterministic under a seed, exactly resumable after SIGKILL, metrics per
epoch, one-line CLI errors."""

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
from klviz.distill.cli import main
from klviz.vi.train import VAEConfig, load_vae, train_vae

QUICK = {"epochs": 3, "train_subset": 300, "test_subset": 100, "latent_dim": 4, "hidden": 32, "progress": False}


def _strip(history):
    return [{k: v for k, v in h.items() if k != "epoch_time_s"} for h in history]


def test_same_seed_same_metrics_and_metrics_per_epoch(tmp_path):
    a = train_vae(run_dir=str(tmp_path / "a"), seed=3, **QUICK)
    b = train_vae(run_dir=str(tmp_path / "b"), seed=3, **QUICK)
    c = train_vae(run_dir=str(tmp_path / "c"), seed=4, **QUICK)
    assert _strip(a.history) == _strip(b.history)
    assert _strip(a.history) != _strip(c.history)
    h = a.history[-1]
    assert len(a.history) == 3
    for key in ("train_rate", "train_distortion", "test_rate", "test_distortion", "test_elbo", "test_loss",
                "test_active_units", *(f"test_kl_{j}" for j in range(4))):
        assert key in h
    assert h["test_elbo"] == pytest.approx(-(h["test_rate"] + h["test_distortion"]))
    assert h["test_rate"] == pytest.approx(sum(h[f"test_kl_{j}"] for j in range(4)))
    assert h["test_active_units"] == sum(h[f"test_kl_{j}"] > 0.01 for j in range(4))
    meta = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert meta["done"] and meta["units"] == "nats per image" and meta["role"] == "vae"
    assert (tmp_path / "a" / "metrics.csv").read_text().count("\n") == 4


def test_evaluation_matches_a_recomputation_from_the_checkpoint(tmp_path):
    from klviz.distill.data import digits_split
    from klviz.vi import vae_terms

    res = train_vae(run_dir=str(tmp_path / "r"), beta=2.0, **QUICK)
    model = load_vae(res.last_path)
    x = torch.from_numpy(digits_split().raw_test[:100])
    eps = torch.randn(100, 4, generator=torch.Generator().manual_seed(1))  # seed + 1, as VAETask draws it
    with torch.no_grad():
        d, r = vae_terms(*model(x, eps), x)
    h = res.history[-1]
    assert float(d.mean()) == pytest.approx(h["test_distortion"], rel=1e-5)
    assert float(r.sum(-1).mean()) == pytest.approx(h["test_rate"], rel=1e-5)
    assert h["test_loss"] == pytest.approx(h["test_distortion"] + 2.0 * h["test_rate"])


def test_larger_beta_lowers_the_rate_and_raises_the_distortion(tmp_path):
    kw = {**QUICK, "epochs": 15}
    low = train_vae(run_dir=str(tmp_path / "low"), beta=0.5, **kw).history[-1]
    high = train_vae(run_dir=str(tmp_path / "high"), beta=8.0, **kw).history[-1]
    assert high["test_rate"] < 0.2 * low["test_rate"] and high["test_distortion"] > low["test_distortion"]
    assert high["test_active_units"] < low["test_active_units"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = ["vae", "--epochs", "25", "--train-subset", "600", "--batch-size", "20", "--quiet"]

    def run(*extra, **kw):
        return subprocess.run([sys.executable, "-m", "klviz.distill", *args, *extra], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)

    p = run("--run-dir", "full")
    assert p.returncode == 0, p.stderr
    proc = subprocess.Popen([sys.executable, "-m", "klviz.distill", *args, "--run-dir", "cut"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = tmp_path / "cut" / "last.pt"
    deadline = time.monotonic() + 120
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = load_checkpoint(last)["epoch"]
    assert 1 <= done < 25, "the run finished before it could be killed"
    p = run("--run-dir", "cut", "--resume")
    assert p.returncode == 0, p.stderr
    full = json.loads((tmp_path / "full" / "metrics.json").read_text())
    cut = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert _strip(cut["history"]) == _strip(full["history"])  # bitwise
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(last)
    assert all(torch.equal(a["model_state"][k], b["model_state"][k]) for k in a["model_state"])
    assert (tmp_path / "cut" / "metrics.csv").read_text().strip().count("\n") == 25


def test_cli_trains_and_prints(tmp_path, capsys):
    rc = main(["vae", "--run-dir", str(tmp_path / "v"), "--epochs", "2", "--train-subset", "200", "--quiet",
               "--latent-dim", "2", "--beta", "0.5"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "test ELBO" in out and "of 2 latent dimensions active" in out


@pytest.mark.parametrize("flags, match", [
    (["--beta", "-1"], "beta=-1.0 must be >= 0"),
    (["--latent-dim", "0"], "latent_dim=0: use at least 1"),
    (["--hidden", "0"], "hidden=0: use at least 1"),
    (["--active-threshold", "0"], "active_threshold=0.0 must be positive"),
    (["--epochs", "0"], "epochs=0: use at least 1"),
    (["--lr", "nan"], "lr=nan must be a finite number"),
    (["--dataset", "cifar10"], "unknown data set 'cifar10'"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, flags, match):
    rc = main(["vae", "--run-dir", str(tmp_path / "v"), *flags])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and match in err, err
    assert not (tmp_path / "v").exists()


def test_config_defaults_validate():
    from klviz.distill.config import validate

    validate(VAEConfig())


def test_load_vae_rejects_another_checkpoint(tmp_path):
    from klviz.distill.checkpoint import CheckpointError, save_checkpoint

    save_checkpoint({"model": "mlp", "model_state": {}}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="not a VAE checkpoint"):
        load_vae(tmp_path / "x.pt")
