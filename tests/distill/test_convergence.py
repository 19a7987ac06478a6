"""klviz.distill.convergence: the linear-student experiment of chapter ch-gkl."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from klviz import losses
from klviz.distill import convergence
from klviz.distill.stats import summarize


@pytest.fixture(scope="module")
def task():
    return convergence.make_digits_task(seed=0, teacher_steps=60)


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
    r = convergence.convergence_experiment(task, variants, seeds=[0, 1], steps=30, eval_every=10, lr=0.05)
    assert r["KL"]["accuracy"].shape == (2, 4)
    np.testing.assert_array_equal(r["KL"]["step"], [0, 10, 20, 30])
    np.testing.assert_allclose(r["KL"]["accuracy"], r["DKL"]["accuracy"])
    np.testing.assert_allclose(r["KL"]["kl"], r["DKL"]["kl"], rtol=1e-5)
    assert (r["KL"]["kl"][:, -1] < r["KL"]["kl"][:, 0]).all()
    # the override reached the run: a different learning rate gives a different curve
    assert not np.allclose(r["KL"]["kl"], r["KL 2x"]["kl"])
    s = summarize(convergence.final_table(r), by="variant", metrics={"accuracy": "acc", "kl": "kl"})
    assert list(s.index) == ["KL", "DKL", "KL 2x"] and (s["n"] == 2).all()
    assert s.loc["KL", "acc_mean"] == pytest.approx(r["KL"]["accuracy"][:, -1].mean())
    assert s.loc["KL 2x", "kl_std"] == pytest.approx(np.std(r["KL 2x"]["kl"][:, -1], ddof=1))


def test_seeds_are_reproducible(task):
    fn = lambda s, t, y: losses.kd_loss(s, t, temperature=4.0)  # noqa: E731
    a = convergence.train_linear_student(task, fn, seed=3, steps=20, eval_every=10)
    b = convergence.train_linear_student(task, fn, seed=3, steps=20, eval_every=10)
    np.testing.assert_array_equal(a["kl"], b["kl"])
    with pytest.raises(ValueError):
        convergence.train_linear_student(task, fn, seed=0, steps=0)


def test_task_uses_the_one_digits_split(task):
    from klviz.distill.data import digits_split

    d = digits_split()
    np.testing.assert_array_equal(task.x_train.numpy(), d.x_train)
    np.testing.assert_array_equal(task.y_test.numpy(), d.y_test)
    task.x_train += 1  # the task holds copies: the memoised split is untouched
    assert not np.array_equal(task.x_train.numpy(), d.x_train)
    task.x_train -= 1
