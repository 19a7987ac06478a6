"""klviz.distill.train: one short run per loss, metrics files, checkpoints, class statistics."""

from __future__ import annotations

import csv
import json

import pytest
import torch
import torch.nn.functional as F

from klviz.distill import ConfigError, StudentConfig, TrainConfig, load_teacher, train_student, train_teacher
from klviz.distill import checkpoint as C
from klviz.distill.data import load_dataset

TINY = dict(dataset="mnist1d", num_samples=500, train_subset=200, test_subset=100, batch_size=50, progress=False)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, data_dir):
    run = tmp_path_factory.mktemp("teacher")
    return train_teacher(TrainConfig(run_dir=str(run), epochs=2, data_dir=data_dir, **TINY))


def test_teacher_run_writes_checkpoints_and_metrics(teacher):
    d = teacher.run_dir
    for f in ("best.pt", "last.pt", "metrics.json", "metrics.csv"):
        assert (d / f).is_file()
    m = json.loads((d / "metrics.json").read_text())
    assert m["world_size"] == 1 and m["done"] and m["epochs_done"] == 2
    assert m["best_test_acc"] == max(h["test_acc"] for h in m["history"]) == teacher.best_test_acc
    assert m["last_test_acc"] == m["history"][-1]["test_acc"] == teacher.last_test_acc
    rows = list(csv.DictReader(open(d / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[-1]["test_acc"]) == pytest.approx(teacher.last_test_acc)
    # accuracies are multiples of 1/100 on 100 test examples
    assert all(abs(h["test_acc"] * 100 - round(h["test_acc"] * 100)) < 1e-9 for h in m["history"])


@pytest.mark.parametrize("loss", ["ce", "kd", "dkd", "dkl", "ikl", "gkl", "js"])
def test_one_epoch_student_per_loss(tmp_path, teacher, data_dir, loss):
    res = train_student(StudentConfig(
        run_dir=str(tmp_path / loss), loss=loss, teacher=None if loss == "ce" else str(teacher.best_path),
        epochs=1, warmup_epochs=1 if loss == "kd" else 0, data_dir=data_dir, **TINY,
    ))
    h = res.history[-1]
    assert 0.0 <= h["test_acc"] <= 1.0 and torch.isfinite(torch.tensor(h["train_loss"]))
    assert (h["train_distill"] == 0.0) == (loss == "ce")
    if loss == "kd":  # the per-step warm-up reaches 1 at the end of the first epoch
        assert h["ramp"] == 1.0
    if loss != "ce":
        assert res.teacher_test_acc == pytest.approx(teacher.best_test_acc)


def test_class_statistics_equal_the_mean_teacher_softmax_per_class(tmp_path, teacher, data_dir):
    res = train_student(StudentConfig(run_dir=str(tmp_path / "g"), loss="gkl", temperature=2.0, teacher=str(teacher.best_path),
                                      epochs=1, data_dir=data_dir, **TINY))
    ck = C.load_checkpoint(res.last_path)
    means = ck["class_stats"]["means"]
    # independent computation: the teacher's softmax at T=2 averaged per label over the training set
    ds = load_dataset("mnist1d", data_dir=data_dir, num_samples=500).subset(200, 100)
    model, _ = load_teacher(teacher.best_path, ds, torch.device("cpu"))
    with torch.no_grad():
        p = F.softmax(model(torch.from_numpy(ds.x_train)).double() / 2.0, dim=1)
    y = torch.from_numpy(ds.y_train)
    for c in range(10):
        if (y == c).any():
            torch.testing.assert_close(means[c].double(), p[y == c].mean(0), rtol=1e-5, atol=1e-6)


def test_in_process_resume_after_a_crash_is_exact(tmp_path, teacher, data_dir):
    base = StudentConfig(loss="gkl", teacher=str(teacher.best_path), epochs=3, data_dir=data_dir, **TINY)
    full = train_student(base, run_dir=str(tmp_path / "full"))

    def crash(row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_student(base, run_dir=str(tmp_path / "part"), epoch_callback=crash)
    resumed = train_student(base, run_dir=str(tmp_path / "part"), resume=True)
    strip = lambda hs: [{k: v for k, v in h.items() if k != "epoch_time_s"} for h in hs]  # noqa: E731
    assert strip(resumed.history) == strip(full.history)
    a, b = C.load_checkpoint(full.last_path), C.load_checkpoint(resumed.last_path)
    for k in a["model_state"]:
        assert torch.equal(a["model_state"][k], b["model_state"][k])
    for k in a["class_stats"]:
        assert torch.equal(a["class_stats"][k], b["class_stats"][k])
    with pytest.raises(ValueError, match="resume with the same options"):
        train_student(base, run_dir=str(tmp_path / "part"), resume=True, lr=0.5)


def test_refuses_to_overwrite_and_force(tmp_path, data_dir):
    cfg = TrainConfig(run_dir=str(tmp_path / "t"), model="linear", epochs=1, data_dir=data_dir, **TINY)
    train_teacher(cfg)
    with pytest.raises(ConfigError, match="--force"):
        train_teacher(cfg)
    train_teacher(cfg, force=True)
    with pytest.raises(ConfigError, match="nothing to resume"):
        train_teacher(cfg, run_dir=str(tmp_path / "empty"), resume=True)


def test_cifar_student_with_augmentation(tmp_path, fake_cifar, fresh_data_memo):
    fake_cifar(tmp_path / "data", "cifar10", n_per_batch=8)
    common = dict(dataset="cifar10", data_dir=str(tmp_path / "data"), epochs=1, batch_size=8, progress=False)
    t = train_teacher(TrainConfig(run_dir=str(tmp_path / "t"), model="linear", **common))
    s = train_student(StudentConfig(run_dir=str(tmp_path / "s"), model="resnet8", loss="dkd", teacher=str(t.best_path), **common))
    assert len(s.history) == 1 and s.history[0]["train_distill"] > 0
