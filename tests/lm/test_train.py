"""The language-model trainer (klviz.lm.train) on the distill runtime: runs, determinism,
kill-and-resume, and one-line errors from the CLI."""

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
from klviz.lm.train import LMStudentConfig, load_lm, train_lm_student, train_lm_teacher

TINY = {"max_chars": 6000, "context": 16, "d_model": 16, "heads": 2, "layers": 1, "batch_size": 8,
        "val_windows": 8, "progress": False}


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm") / "t"
    torch.set_num_threads(1)
    res = train_lm_teacher(run_dir=str(d), epochs=2, **TINY)
    return res


def test_teacher_trains_and_records_the_corpus(teacher):
    h = teacher.history
    assert len(h) == 2 and h[-1]["val_bpc"] < h[0]["val_bpc"] + 0.5
    model, tok, ck = load_lm(teacher.last_path)
    assert ck["corpus"]["chars"] == 6000 and len(ck["corpus"]["sha256"]) == 64
    assert model.vocab_size == tok.vocab_size and not any(p.requires_grad for p in model.parameters())
    meta = json.loads((teacher.run_dir / "metrics.json").read_text())
    assert meta["python"] and meta["corpus_sha256"] == ck["corpus"]["sha256"]


@pytest.mark.parametrize("loss,extra", [("kd", {}), ("js", {"beta": 1.0}), ("skl", {}), ("srkl", {}), ("dkl", {}),
                                        ("gkl", {})])
def test_off_policy_students(teacher, tmp_path, loss, extra):
    res = train_lm_student(run_dir=str(tmp_path / loss), teacher=str(teacher.last_path), loss=loss, epochs=1,
                           **extra, **TINY)
    assert res.history[-1]["val_kl_bits"] >= 0 and "train_distill" in res.history[-1]


def test_on_policy_loop_is_deterministic(teacher, tmp_path):
    kw = dict(teacher=str(teacher.last_path), loss="js", beta=1.0, policy="on", prompt_len=4, gen_len=12,
              epochs=1, train_subset=24, **TINY)
    a = train_lm_student(run_dir=str(tmp_path / "a"), **kw)
    b = train_lm_student(run_dir=str(tmp_path / "b"), **kw)
    strip = [{k: v for k, v in h.items() if k != "epoch_time_s"} for h in a.history]
    assert strip == [{k: v for k, v in h.items() if k != "epoch_time_s"} for h in b.history]
    c = train_lm_student(run_dir=str(tmp_path / "c"), **{**kw, "seed": 1})
    assert c.history[-1]["train_loss"] != a.history[-1]["train_loss"]


@pytest.mark.parametrize("args,needle", [
    (["lm-student", "--loss", "nope"], "unknown loss 'nope'"),
    (["lm-student", "--loss", "dkd"], "unknown loss 'dkd'"),
    (["lm-teacher", "--context", "1"], "context=1"),
    (["lm-student", "--teacher", "x.pt", "--top-k", "0"], "top_k=0"),
    (["lm-teacher", "--max-chars", "0"], "max_chars=0"),
    (["lm-teacher", "--max-chars", "50"], "fewer than context + 1"),
    (["lm-student", "--loss", "kd"], "needs a teacher"),
    (["lm-student", "--teacher", "x.pt", "--loss", "kd", "--beta", "0.5"], "--beta does not apply"),
    (["lm-student", "--teacher", "x.pt", "--loss", "skl", "--skew", "1.5"], "skew"),
    (["lm-student", "--teacher", "x.pt", "--policy", "on", "--gen-len", "64"], "exceeds context"),
    (["lm-student", "--teacher", "x.pt", "--policy", "on", "--off-epochs", "2", "--epochs", "2"],
     "leaves no on-policy epoch"),
])
def test_bad_input_gives_one_line(args, needle, capsys, tmp_path):
    assert main([*args, "--run-dir", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err


def test_empty_corpus_is_a_one_line_error():
    from klviz.lm.corpus import CharTokenizer

    with pytest.raises(ValueError, match="empty"):
        CharTokenizer("")


def _run(args, cwd, env):
    return subprocess.run([sys.executable, "-m", "klviz.distill", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_then_resume_equals_uninterrupted(teacher, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k != "progress"]
    student = ["lm-student", "--teacher", str(teacher.last_path), "--loss", "js", "--beta", "1", "--policy", "on",
               "--prompt-len", "4", "--gen-len", "12", "--epochs", "6", "--train-subset", "16", *flags, "--quiet"]
    p = _run([*student, "--run-dir", "full"], tmp_path, env)
    assert p.returncode == 0, p.stderr
    proc = subprocess.Popen([sys.executable, "-m", "klviz.distill", *student, "--run-dir", "cut"], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = tmp_path / "cut" / "last.pt"
    deadline = time.monotonic() + 120
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = load_checkpoint(last)["epoch"]
    assert 1 <= done < 6, "the run finished before it could be killed"
    p = _run([*student, "--run-dir", "cut", "--resume"], tmp_path, env)
    assert p.returncode == 0, p.stderr
    full = json.loads((tmp_path / "full" / "metrics.json").read_text())
    cut = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    strip = lambda h: [{k: v for k, v in r.items() if k != "epoch_time_s"} for r in h]  # noqa: E731
    assert strip(cut["history"]) == strip(full["history"]) and len(cut["history"]) == 6
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(last)
    assert all(torch.equal(a["model_state"][k], b["model_state"][k]) for k in a["model_state"])


def test_student_config_has_the_loss_hypers():
    cfg = LMStudentConfig(teacher="t.pt", loss="skl", skew=0.2)
    assert cfg.kind == "student" and cfg.role == "student[skl]" and cfg.class_weights is False


def test_run_students_in_two_processes_gives_the_same_runs(teacher, tmp_path):
    """``workers=2`` (the chapter's setting) trains in spawned processes; every run is seeded on
    its own, so the metrics and samples equal those of one process, in grid order."""
    from klviz.lm.experiment import run_students

    base = LMStudentConfig(teacher=str(teacher.last_path), epochs=1, train_subset=16, prompt_len=4, gen_len=6,
                           **TINY)
    prompts = torch.randint(0, 5, (4, 4), generator=torch.Generator().manual_seed(0))
    grid = [("forward KL", "off"), ("CE only", "off")]
    one = run_students(base, grid, (0, 1), tmp_path / "one", prompts, 6)
    two = run_students(base, grid, (0, 1), tmp_path / "two", prompts, 6, workers=2)
    assert [(r.recipe, r.seed) for r in two] == [("forward KL", 0), ("forward KL", 1), ("CE only", 0), ("CE only", 1)]
    assert [(r.metrics, r.samples) for r in one] == [(r.metrics, r.samples) for r in two]
    with pytest.raises(ValueError, match="workers must be an int in"):
        run_students(base, grid, (0,), tmp_path / "x", prompts, 6, workers=0)
