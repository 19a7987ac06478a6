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


def _kd(s, t, y):
    return losses.kd_loss(s, t, temperature=4.0)


def test_gradient_alignment_against_a_hand_computed_first_step(task):
    ikl = lambda s, t, y: losses.gkl_loss(s, t, temperature=4.0, gamma=1.0)  # noqa: E731
    r = convergence.gradient_alignment(task, _kd, {"IKL": ikl}, seeds=[2], steps=3, batch_size=32)
    assert r["IKL"]["cosine"].shape == (1, 3) and r["IKL"]["norm_ratio"].shape == (1, 3)
    # the same recipe written out: seeded init, then the first batch of a seeded permutation
    torch.manual_seed(2)
    student = torch.nn.Linear(64, 10)
    idx = torch.randperm(task.x_train.shape[0], generator=torch.Generator().manual_seed(2))[:32]
    x, t = task.x_train[idx], task.teacher_train[idx]

    def flat(fn):
        gw, gb = torch.autograd.grad(fn(student(x), t, None), [student.weight, student.bias])
        return torch.cat([gw.flatten(), gb])

    g_kd, g_ikl = flat(_kd), flat(ikl)
    cos = torch.nn.functional.cosine_similarity(g_kd, g_ikl, dim=0).item()
    assert r["IKL"]["cosine"][0, 0] == pytest.approx(cos, rel=1e-6)
    assert r["IKL"]["norm_ratio"][0, 0] == pytest.approx((g_ikl.norm() / g_kd.norm()).item(), rel=1e-6)


def test_gradient_alignment_of_scaled_and_negated_losses(task):
    others = {"same": _kd, "twice": lambda s, t, y: 2 * _kd(s, t, y), "minus": lambda s, t, y: -_kd(s, t, y)}
    r = convergence.gradient_alignment(task, _kd, others, seeds=[0, 1], steps=15)
    np.testing.assert_allclose(r["same"]["cosine"], 1, atol=1e-6)
    np.testing.assert_allclose(r["twice"]["cosine"], 1, atol=1e-6)
    np.testing.assert_allclose(r["twice"]["norm_ratio"], 2, rtol=1e-6)
    np.testing.assert_allclose(r["minus"]["cosine"], -1, atol=1e-6)
    assert r["same"]["cosine"].shape == (2, 15)


def test_gradient_alignment_rejects_bad_arguments(task):
    with pytest.raises(ValueError, match="steps"):
        convergence.gradient_alignment(task, _kd, {"kd": _kd}, steps=0)
    with pytest.raises(ValueError, match="others"):
        convergence.gradient_alignment(task, _kd, {})
    with pytest.raises(ValueError, match="seeds"):
        convergence.gradient_alignment(task, _kd, {"kd": _kd}, seeds=[])
