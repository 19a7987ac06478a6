"""The trainer: a tiny deterministic digits run beats standard training under the worst case,
kill-and-resume gives the same metrics, the CLI's one-line errors."""

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
from klviz.robust import RobustConfig, default_attacks, load_robust_model, train_robust, worst_case


def _strip(history):
    return [{k: v for k, v in h.items() if k != "epoch_time_s"} for h in history]


def test_trades_beats_standard_under_the_worst_case_at_eps_0_1(tmp_path, digits):
    torch.set_num_threads(1)
    x, y = digits[2], digits[3]
    acc = {}
    for method in ("standard", "trades_kl", "gkl_at"):
        res = train_robust(RobustConfig(method=method, eps=0.1, epochs=6, run_dir=str(tmp_path / method),
                                        progress=False))
        again = train_robust(RobustConfig(method=method, eps=0.1, epochs=6, run_dir=str(tmp_path / method),
                                          progress=False, force=True))
        assert _strip(res.history) == _strip(again.history)  # deterministic
        r = worst_case(load_robust_model(str(res.last_path)), x, y, default_attacks(0.1))
        acc[method] = r.robust_acc
    assert acc["trades_kl"] > acc["standard"] + 0.1
    assert acc["gkl_at"] > acc["standard"] + 0.1


def test_interrupted_then_resumed_run_equals_an_uninterrupted_one(tmp_path):
    torch.set_num_threads(1)
    common = dict(method="trades_ikl", eps=0.1, epochs=4, train_subset=300, progress=False, eps_schedule="linear")
    full = train_robust(RobustConfig(run_dir=str(tmp_path / "full"), **common))

    class Stop(Exception):
        pass

    def stop_after_two(row):
        if row["epoch"] == 2:
            raise Stop

    with pytest.raises(Stop):
        train_robust(RobustConfig(run_dir=str(tmp_path / "cut"), **common), epoch_callback=stop_after_two)
    resumed = train_robust(RobustConfig(run_dir=str(tmp_path / "cut"), resume=True, **common))
    assert _strip(resumed.history) == _strip(full.history)
    a, b = load_checkpoint(full.last_path), load_checkpoint(resumed.last_path)
    for k in a["model_state"]:
        assert torch.equal(a["model_state"][k], b["model_state"][k])
    assert torch.equal(a["class_stats"]["means"], b["class_stats"]["means"])


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_then_resume_gives_the_same_metrics(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "klviz.distill", "robust", "--method", "gkl_at", "--epochs", "8",
            "--train-subset", "400", "--quiet"]
    p = subprocess.run([*args, "--run-dir", "full"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    proc = subprocess.Popen([*args, "--run-dir", "cut"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = tmp_path / "cut" / "last.pt"
    deadline = time.monotonic() + 120
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = load_checkpoint(last)["epoch"]
    assert 1 <= done < 8, "the run finished before it could be killed"
    p = subprocess.run([*args, "--run-dir", "cut", "--resume"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    h_full = json.loads((tmp_path / "full" / "metrics.json").read_text())["history"]
    h_cut = json.loads((tmp_path / "cut" / "metrics.json").read_text())["history"]
    assert _strip(h_cut) == _strip(h_full)


@pytest.mark.parametrize("args,match", [
    (["--eps", "-0.1"], "eps=-0.1 must be >= 0"),
    (["--train-steps", "0"], "train_steps=0: use at least 1"),
    (["--method", "fgsm_at"], "unknown method 'fgsm_at'; choose one of"),
    (["--norm", "l1"], "unknown norm 'l1'; choose one of: linf, l2"),
    (["--inner", "ce"], "unknown inner 'ce'"),
    (["--model", "resnet20"], "use mlp or cnn2d on digits"),
])
def test_bad_cli_input_is_one_line(tmp_path, capsys, args, match):
    assert main(["robust", "--run-dir", str(tmp_path / "r"), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_cli_trains_and_prints_the_worst_case(tmp_path, capsys):
    torch.set_num_threads(1)
    assert main(["robust", "--run-dir", str(tmp_path / "r"), "--epochs", "2", "--method", "pgd_at",
                 "--quiet", "--hidden", "32"]) == 0
    out = capsys.readouterr().out
    assert "worst-case robust accuracy" in out and "FGSM (ce)" in out
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["done"]
