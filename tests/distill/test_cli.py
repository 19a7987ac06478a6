"""``python -m klviz.distill`` as a user meets it: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from klviz.distill.cli import build_parser
from klviz.distill.commands import load_plugins

TINY = ["--num-samples", "500", "--train-subset", "200", "--test-subset", "100", "--batch-size", "50", "--quiet"]


def cli(*args: str, cwd: Path, env_extra: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KLVIZ_DATA": str(cwd / "data"), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "klviz.distill", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr and lines[0].startswith("python -m klviz.distill")
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A working directory with a trained MNIST-1D teacher and a tiny CIFAR-10 teacher."""
    d = tmp_path_factory.mktemp("cli")
    p = cli("teacher", "--run-dir", "runs/t", "--epochs", "1", *TINY, cwd=d)
    assert p.returncode == 0, p.stderr
    assert "best test accuracy" in p.stdout
    return d


def test_help_documents_every_flag():
    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices
    # the built-in commands and those the chapters' trainers register (klviz.distill.commands.PLUGINS)
    assert set(subs) == {"teacher", "student", "compare", *load_plugins()}
    for name, sub in subs.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings} has no help text"
    out = subprocess.run([sys.executable, "-m", "klviz.distill", "student", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--warmup-epochs" in out.stdout and "--resume" in out.stdout


@pytest.mark.parametrize("flag", ["--hidden", "--channels"])
def test_model_sizes_must_be_positive(work, flag):
    p = cli("teacher", "--run-dir", "runs/bad", flag, "0", cwd=work)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "must be >= 1, got 0" in p.stderr


def test_diverged_training_is_a_one_line_error(work):
    p = cli("teacher", "--run-dir", "runs/diverge", "--epochs", "1", "--lr", "1e30", *TINY, cwd=work)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].endswith("lower --lr"), p.stderr


def test_unknown_loss(work):
    assert_one_line_error(cli("student", "--loss", "kld", "--teacher", "runs/t/best.pt", *TINY, cwd=work),
                          "unknown loss 'kld'", "gkl")


def test_unknown_dataset(work):
    assert_one_line_error(cli("teacher", "--dataset", "mnist", "--run-dir", "runs/x", cwd=work),
                          "unknown data set 'mnist'", "mnist1d, digits, cifar10, cifar100")
    assert not (work / "runs" / "x").exists()


def test_unknown_model(work):
    assert_one_line_error(cli("teacher", "--model", "vgg", cwd=work), "unknown model 'vgg'")


def test_missing_teacher_checkpoint(work):
    assert_one_line_error(cli("student", "--loss", "kd", "--teacher", "runs/none/best.pt", *TINY, cwd=work),
                          "does not exist", "python -m klviz.distill teacher")


def test_corrupt_teacher_checkpoint(work):
    (work / "corrupt.pt").write_bytes((work / "runs/t/best.pt").read_bytes()[:300])
    assert_one_line_error(cli("student", "--loss", "kd", "--teacher", "corrupt.pt", *TINY, cwd=work), "corrupt")


def test_corrupt_last_checkpoint_on_resume(work, tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / "last.pt").write_bytes(b"\x00" * 64)
    assert_one_line_error(cli("teacher", "--run-dir", str(run), "--resume", *TINY, cwd=work), "corrupt", "--force")


@pytest.mark.parametrize(("flag", "value"), [("--temperature", "0"), ("--weight-temperature", "-1")])
def test_non_positive_temperature(work, flag, value):
    assert_one_line_error(cli("student", "--loss", "gkl", "--teacher", "runs/t/best.pt", flag, value, *TINY, cwd=work),
                          "must be positive")


def test_teacher_with_other_number_of_classes(work, fake_cifar):
    fake_cifar(work / "data", "cifar10")
    fake_cifar(work / "data", "cifar100")
    common = ["--batch-size", "8", "--epochs", "1", "--quiet"]
    p = cli("teacher", "--dataset", "cifar10", "--model", "linear", "--run-dir", "runs/c10", *common, cwd=work)
    assert p.returncode == 0, p.stderr
    assert_one_line_error(cli("student", "--dataset", "cifar100", "--model", "linear", "--loss", "kd",
                              "--teacher", "runs/c10/best.pt", *common, cwd=work),
                          "predicts 10 classes", "has 100", "--dataset cifar100")


def test_argparse_errors_are_one_line(work):
    assert_one_line_error(cli("student", "--epochs", "many", cwd=work), "--epochs", "--help")
    assert_one_line_error(cli("fit", cwd=work), "invalid choice")


def test_refuses_existing_results_then_force(work):
    p = cli("student", "--loss", "ce", "--run-dir", "runs/ce", "--epochs", "1", *TINY, cwd=work)
    assert p.returncode == 0, p.stderr
    before = (work / "runs/ce/metrics.json").read_bytes()
    assert_one_line_error(cli("student", "--loss", "ce", "--run-dir", "runs/ce", "--epochs", "1", *TINY, cwd=work),
                          "already has results", "--force")
    assert (work / "runs/ce/metrics.json").read_bytes() == before  # nothing overwritten
    p = cli("student", "--loss", "ce", "--run-dir", "runs/ce", "--epochs", "2", "--force", *TINY, cwd=work)
    assert p.returncode == 0, p.stderr
    assert json.loads((work / "runs/ce/metrics.json").read_text())["epochs_done"] == 2


def test_compare_prints_a_table_and_writes_files(work):
    out = "runs/cmp"
    p = cli("compare", "--losses", "ce,kd,gkl", "--seeds", "2", "--teacher", "runs/t/best.pt", "--epochs", "1",
            "--temperature", "2", "--out", out, *TINY, cwd=work)
    assert p.returncode == 0, p.stderr
    for loss in ("ce", "kd", "gkl"):
        assert any(line.startswith(loss) and "+-" in line for line in p.stdout.splitlines()), p.stdout
    assert "paired difference to ce" in p.stdout
    for f in ("results.csv", "summary.csv", "curves.csv", "learning_curves.png"):
        assert (work / out / f).is_file()
    assert (work / out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # drawn by the CLI
    assert_one_line_error(cli("compare", "--losses", "ce", "--seeds", "1", "--out", out, *TINY, cwd=work), "--force")
    assert_one_line_error(cli("compare", "--losses", "ce,foo", "--out", "runs/cmp2", *TINY, cwd=work), "unknown loss 'foo'")
    assert not (work / "runs/cmp2").exists()  # checked before any training


def test_compare_applies_no_class_weights_to_the_class_wise_losses_only(work):
    out = work / "runs/cmp-gi"
    p = cli("compare", "--losses", "ce,kd,gkl", "--seeds", "1", "--teacher", "runs/t/last.pt", "--epochs", "1",
            "--no-class-weights", "--out", str(out), *TINY, cwd=work)
    assert p.returncode == 0, p.stderr
    got = {loss: json.loads((out / loss / "seed0" / "metrics.json").read_text())["config"]["class_weights"]
           for loss in ("ce", "kd", "gkl")}
    assert got == {"ce": True, "kd": True, "gkl": False}
