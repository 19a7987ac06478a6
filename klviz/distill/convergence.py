r"""The convergence experiment of chapter ``ch-gkl``: a linear student distils a fixed teacher.

Everything here runs in seconds on a laptop CPU and downloads nothing: a linear student
(64 pixels -> 10 logits) distils from a fixed MLP teacher on scikit-learn's bundled 8x8 digits
(the split of :func:`klviz.distill.data.digits_split`), to compare KL, DKL, IKL and GKL
{cite}`cui2023decoupled` over several seeds. A toy on purpose; the full trainer is
:func:`klviz.distill.train_student`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from klviz import _checks as checks
from klviz.distill.data import digits_split
from klviz._backend import torch_threads

__all__ = [
    "DigitsTask",
    "LossFn",
    "convergence_experiment",
    "final_table",
    "gradient_alignment",
    "make_digits_task",
    "train_linear_student",
]

#: ``loss_fn(student_logits, teacher_logits, target) -> scalar``
LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class DigitsTask:
    """The digits split (standardised, as tensors) with a fixed teacher's logits."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    teacher_train: torch.Tensor  #: teacher logits on the training set (fixed, no grad)
    teacher_test: torch.Tensor  #: teacher logits on the test set
    teacher_accuracy: float
    num_classes: int = 10
    info: dict = field(default_factory=dict)


def make_digits_task(*, seed: int = 0, hidden: int = 128, teacher_steps: int = 300, test_size: float = 0.25) -> DigitsTask:
    r"""Build the toy distillation task of chapter ``ch-gkl``.

    The data are :func:`~klviz.distill.data.digits_split` ``(test_size=test_size, seed=seed)``:
    scikit-learn's 8x8 digits, stratified, standardised per pixel with training-set statistics.
    The teacher is a one-hidden-layer MLP (64 -> ``hidden`` -> 10) trained with cross-entropy and
    Adam, full batch, for ``teacher_steps`` steps, then frozen: its logits are stored, so every
    student sees exactly the same teacher.
    """
    hidden, teacher_steps = checks.positive_int(hidden, "hidden"), checks.positive_int(teacher_steps, "teacher_steps")
    d = digits_split(test_size=test_size, seed=seed)
    # copies: the split is memoised and shared
    xt, xe = torch.tensor(d.x_train), torch.tensor(d.x_test)
    yt, ye = torch.tensor(d.y_train), torch.tensor(d.y_test)

    torch.manual_seed(seed)
    teacher = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    opt = torch.optim.Adam(teacher.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(teacher_steps):
        opt.zero_grad()
        nn.functional.cross_entropy(teacher(xt), yt).backward()
        opt.step()
    with torch.no_grad():
        t_tr, t_te = teacher(xt), teacher(xe)
    acc = float((t_te.argmax(1) == ye).float().mean())
    return DigitsTask(xt, yt, xe, ye, t_tr, t_te, acc, 10, {"hidden": hidden, "teacher_steps": teacher_steps})


def _record(rec: dict[str, list[float]], student: nn.Module, task: DigitsTask, step: int, temperature: float) -> None:
    with torch.no_grad():
        logits = student(task.x_test)
        rec["step"].append(step)
        rec["accuracy"].append(float((logits.argmax(1) == task.y_test).float().mean()))
        lt = torch.log_softmax(task.teacher_test / temperature, dim=-1)
        ls = torch.log_softmax(logits / temperature, dim=-1)
        rec["kl"].append(float((lt.exp() * (lt - ls)).sum(-1).mean()))


def _student_and_batches(task: DigitsTask, seed: int, steps: int, batch_size: int):
    """The linear student initialised from ``seed`` and its ``steps`` mini-batches (index tensors).

    One recipe for every run of the experiment, so that a seed means the same initialisation and
    the same batch order in :func:`train_linear_student` and :func:`gradient_alignment`: shuffle,
    walk through the permutation, reshuffle when fewer than ``batch_size`` samples are left.
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    student = nn.Linear(task.x_train.shape[1], task.num_classes)
    n = task.x_train.shape[0]

    def batches():
        order, pos = torch.randperm(n, generator=gen), 0
        for _ in range(steps):
            if pos + batch_size > n:
                order, pos = torch.randperm(n, generator=gen), 0
            yield order[pos : pos + batch_size]
            pos += batch_size

    return student, batches()


def train_linear_student(
    task: DigitsTask,
    loss_fn: LossFn,
    *,
    seed: int,
    steps: int = 200,
    lr: float = 0.05,
    batch_size: int = 64,
    eval_every: int = 10,
    temperature: float = 4.0,
) -> dict[str, np.ndarray]:
    r"""Train a linear student (64 -> 10 logits) on ``loss_fn(student_logits, teacher_logits, target)``
    with plain SGD for ``steps`` mini-batch steps, and record, every ``eval_every`` steps,
    the test accuracy and the test :math:`D_{\mathrm{KL}}(\text{teacher}_T\|\text{student}_T)`
    at ``temperature``.  ``seed`` fixes the student's initialisation and the batch order.
    """
    steps, eval_every = checks.positive_int(steps, "steps"), checks.positive_int(eval_every, "eval_every")
    batch_size = checks.positive_int(batch_size, "batch_size")
    temperature, lr = checks.temperature(temperature), checks.positive(lr, "lr")
    student, batches = _student_and_batches(task, seed, steps, batch_size)
    opt = torch.optim.SGD(student.parameters(), lr=lr)
    rec: dict[str, list[float]] = {"step": [], "accuracy": [], "kl": []}
    _record(rec, student, task, 0, temperature)
    for step, idx in enumerate(batches, start=1):
        opt.zero_grad()
        loss = loss_fn(student(task.x_train[idx]), task.teacher_train[idx], task.y_train[idx])
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss at step {step}; lower lr")
        loss.backward()
        opt.step()
        if step % eval_every == 0:
            _record(rec, student, task, step, temperature)
    return {k: np.asarray(v) for k, v in rec.items()}


def convergence_experiment(
    task: DigitsTask,
    variants: Mapping[str, LossFn | tuple[LossFn, Mapping]],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    progress: bool = False,
    **train_kwargs,
) -> dict[str, dict[str, np.ndarray]]:
    """Run :func:`train_linear_student` for every variant and seed.

    A variant is a loss function, or a pair ``(loss_fn, overrides)`` whose dict overrides
    some of ``train_kwargs`` for that variant only (e.g. ``{"lr": 0.1}`` for a control run).

    Returns ``{variant: {"step": (S,), "accuracy": (n_seeds, S), "kl": (n_seeds, S)}}``.
    Every variant sees the same seeds, hence the same initialisations and batch orders,
    so differences between variants are paired.
    """
    if len(seeds) < 1:
        raise ValueError("seeds: give at least one seed")
    jobs = [(name, s) for name in variants for s in seeds]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc="training students", ncols=80)
    runs: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in variants}
    # one thread: for a 64x10 linear model, thread start-up and contention cost more than
    # they save (about 50x slower on a busy 2-core machine)
    with torch_threads(1):
        for name, s in jobs:
            spec = variants[name]
            fn, over = (spec[0], dict(spec[1])) if isinstance(spec, tuple) else (spec, {})
            runs[name].append(train_linear_student(task, fn, seed=s, **{**train_kwargs, **over}))
    return {
        name: {
            "step": rs[0]["step"],
            "accuracy": np.stack([r["accuracy"] for r in rs]),
            "kl": np.stack([r["kl"] for r in rs]),
        }
        for name, rs in runs.items()
    }


def _param_grads(student: nn.Module, loss_fn: LossFn, batch) -> tuple[torch.Tensor, ...]:
    x, teacher, target = batch
    loss = loss_fn(student(x), teacher, target)
    if not torch.isfinite(loss):
        raise FloatingPointError("non-finite loss; lower lr")
    return torch.autograd.grad(loss, list(student.parameters()))


def gradient_alignment(
    task: DigitsTask,
    reference: LossFn,
    others: Mapping[str, LossFn],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    steps: int = 150,
    lr: float = 0.05,
    batch_size: int = 64,
) -> dict[str, dict[str, np.ndarray]]:
    r"""Compare the direction and size of other losses' gradients with a reference loss's.

    The student is trained with ``reference`` exactly as in :func:`train_linear_student` (same
    seeds, initialisation and batches). At every step, on that step's batch and at the current
    parameters :math:`\theta`, the gradient :math:`g_\ell = \nabla_\theta \ell` of each loss
    in ``others`` is compared with the reference gradient :math:`g_0` by

    .. math::
        \cos = \frac{g_\ell^\top g_0}{\lVert g_\ell\rVert\,\lVert g_0\rVert},
        \qquad \text{ratio} = \frac{\lVert g_\ell\rVert}{\lVert g_0\rVert},

    over all parameters (weights and biases) together: for plain SGD the step is
    :math:`-\text{lr}\cdot g`, so a cosine near 1 with a ratio :math:`r` means "the step of the
    reference with :math:`r` times its learning rate". Chapter ``ch-gkl`` uses it to test whether
    IKL/GKL {cite}`cui2023decoupled` take a larger step along KL's direction.

    Returns ``{name: {"cosine": (n_seeds, steps), "norm_ratio": (n_seeds, steps)}}``.
    """
    steps = checks.positive_int(steps, "steps")
    batch_size = checks.positive_int(batch_size, "batch_size")
    lr = checks.positive(lr, "lr")
    if len(seeds) < 1:
        raise ValueError("seeds: give at least one seed")
    if not others:
        raise ValueError("others: give at least one loss to compare with the reference")
    out = {name: {"cosine": [], "norm_ratio": []} for name in others}
    with torch_threads(1):  # as in convergence_experiment: a tiny model
        for seed in seeds:
            student, batches = _student_and_batches(task, seed, steps, batch_size)
            params = list(student.parameters())
            opt = torch.optim.SGD(params, lr=lr)
            rows = {name: ([], []) for name in others}
            for idx in batches:
                batch = (task.x_train[idx], task.teacher_train[idx], task.y_train[idx])
                grads0 = _param_grads(student, reference, batch)
                g0 = torch.cat([g.reshape(-1) for g in grads0])
                for name, fn in others.items():
                    g = torch.cat([g.reshape(-1) for g in _param_grads(student, fn, batch)])
                    rows[name][0].append(float(g @ g0 / (g.norm() * g0.norm())))
                    rows[name][1].append(float(g.norm() / g0.norm()))
                for param, grad in zip(params, grads0):
                    param.grad = grad
                opt.step()
            for name, (cos, ratio) in rows.items():
                out[name]["cosine"].append(cos)
                out[name]["norm_ratio"].append(ratio)
    return {name: {k: np.asarray(v) for k, v in d.items()} for name, d in out.items()}


def final_table(results: Mapping[str, Mapping[str, np.ndarray]], *, at: int = -1) -> pd.DataFrame:
    """One row per variant and seed (its index in ``seeds``): the metrics at evaluation index ``at``.

    The long form :func:`klviz.distill.stats.summarize` reads:
    ``summarize(final_table(r), by="variant", metrics={"accuracy": "accuracy", "kl": "kl"})``.
    """
    rows = []
    for name, r in results.items():
        acc, kl = np.asarray(r["accuracy"]), np.asarray(r["kl"])
        rows += [{"variant": name, "seed": i, "accuracy": float(acc[i, at]), "kl": float(kl[i, at])}
                 for i in range(acc.shape[0])]
    return pd.DataFrame(rows)
