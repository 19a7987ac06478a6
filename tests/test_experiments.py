"""klviz.experiments: the wMSE forms, the cost benchmark and the toy distillation experiment."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz import experiments, losses


def _brute(w, d):
    return (w[..., :, None] * w[..., None, :] * (d[..., :, None] - d[..., None, :]) ** 2).sum((-2, -1))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0.01, 5.0), min_size=2, max_size=8),
    st.lists(st.floats(-20, 20), min_size=8, max_size=8),
)
def test_uncentred_form_is_exact_in_float64(ws, ds):
    w = torch.tensor(ws, dtype=torch.float64)
    d = torch.tensor(ds[: len(ws)], dtype=torch.float64)
    ref = _brute(w, d)
    assert experiments.wmse_uncentred(w, d).item() == pytest.approx(ref.item(), rel=1e-9, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=8), st.floats(0.25, 3.0))
def test_appendix_form_right_only_when_weights_sum_to_one(logits, gamma):
    o = torch.tensor(logits, dtype=torch.float64)
    d = torch.linspace(-1, 2, len(logits), dtype=torch.float64)
    p = torch.softmax(o, -1)
    assert experiments.wmse_appendix_form(p, d).item() == pytest.approx(_brute(p, d).item(), rel=1e-9, abs=1e-12)
    w = p**gamma
    W = w.sum()
    # the difference is exactly 2 (W - 1) sum w d^2 (symbolic.wmse_identity)
    diff = _brute(w, d) - experiments.wmse_appendix_form(w, d)
    assert diff.item() == pytest.approx((2 * (W - 1) * (w * d**2).sum()).item(), rel=1e-9, abs=1e-12)


def test_uncentred_form_cancels_in_float32():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(8, 10, generator=gen) + 1e4, torch.randn(8, 10, generator=gen)
    w = torch.softmax(b, -1)
    ref = losses.wmse(a.double(), b.double(), w.double())
    bad = ((experiments.wmse_uncentred(w, a - b).double() - ref).abs() / ref).max()
    good = ((losses.wmse(a, b, w).double() - ref).abs() / ref).max()
    assert bad > 1e-1 and good < 1e-2


def test_wmse_forms_validate():
    with pytest.raises(ValueError, match="same shape"):
        experiments.wmse_uncentred(torch.ones(3), torch.ones(4))
    with pytest.raises(TypeError):
        experiments.wmse_appendix_form(np.ones(3), torch.ones(3))


def test_wmse_cost_small():
    r = experiments.wmse_cost([4, 16], batch=3, repeats=1)
    np.testing.assert_array_equal(r["C"], [4, 16])
    np.testing.assert_array_equal(r["mem_brute"], 4.0 * 3 * np.array([16, 256]))
    np.testing.assert_array_equal(r["mem_fast"], 4.0 * 3 * np.array([4, 16]))
    assert (r["max_diff"] < 1e-4).all() and (r["time_fast"] > 0).all()


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


def test_wmse_centred_matches_the_loss_and_the_brute_force():
    import torch

    from klviz import losses
    from klviz.experiments import wmse_centred

    g = torch.Generator().manual_seed(5)
    a, b = torch.randn(3, 7, generator=g, dtype=torch.float64), torch.randn(3, 7, generator=g, dtype=torch.float64)
    w = torch.softmax(a, -1) ** 0.5
    brute = losses.pairwise_wmse_bruteforce(a, b, w)
    torch.testing.assert_close(wmse_centred(w, a - b), brute)
    torch.testing.assert_close(losses.wmse(a, b, w), brute)
