"""klviz.experiments: the toy distillation experiment (the wMSE forms are tested in tests/losses/)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from klviz import experiments, losses


@pytest.fixture(scope="module")
def task():
    return experiments.make_digits_task(seed=0, teacher_steps=60)


def test_task_shapes_and_teacher(task):
    assert task.x_train.shape[1] == 64 and task.teacher_test.shape == (task.x_test.shape[0], 10)
    assert task.teacher_accuracy > 0.9
    assert torch.isfinite(task.x_test).all() and task.x_test.abs().max() < 100


def test_dkl_and_kl_runs_are_identical_and_learn(task):
    T = 4.0
    variants = {
        "KL": lambda s, t, y: losses.kd_loss(s, t, temperature=T),
        "DKL": lambda s, t, y: losses.dkl_loss(s, t, temperature=T),
        "KL 2x": (lambda s, t, y: losses.kd_loss(s, t, temperature=T), {"lr": 0.1}),
    }
    r = experiments.convergence_experiment(task, variants, seeds=[0, 1], steps=30, eval_every=10, lr=0.05)
    assert r["KL"]["accuracy"].shape == (2, 4)
    np.testing.assert_array_equal(r["KL"]["step"], [0, 10, 20, 30])
    np.testing.assert_allclose(r["KL"]["accuracy"], r["DKL"]["accuracy"])
    np.testing.assert_allclose(r["KL"]["kl"], r["DKL"]["kl"], rtol=1e-5)
    assert (r["KL"]["kl"][:, -1] < r["KL"]["kl"][:, 0]).all()
    # the override reached the run: a different learning rate gives a different curve
    assert not np.allclose(r["KL"]["kl"], r["KL 2x"]["kl"])
    s = experiments.summarize(r)
    assert s["KL"][0] == pytest.approx(r["KL"]["accuracy"][:, -1].mean())


def test_seeds_are_reproducible(task):
    fn = lambda s, t, y: losses.kd_loss(s, t, temperature=4.0)  # noqa: E731
    a = experiments.train_student(task, fn, seed=3, steps=20, eval_every=10)
    b = experiments.train_student(task, fn, seed=3, steps=20, eval_every=10)
    np.testing.assert_array_equal(a["kl"], b["kl"])
    with pytest.raises(ValueError):
        experiments.train_student(task, fn, seed=0, steps=0)
