r"""Small, self-contained experiments of chapters ``ch-dkl`` and ``ch-gkl`` (``ch-dkl``, ``ch-gkl``).

Everything here runs in seconds on a laptop CPU and downloads nothing:

- :func:`make_digits_task`, :func:`train_student`, :func:`convergence_experiment`: a linear
  student distilling from a fixed MLP teacher on scikit-learn's bundled 8x8 digits, to
  compare KL, DKL, IKL and GKL (Cui et al., 2023; 2025) over several seeds.  This is a toy
  on purpose; the full trainer is :mod:`klviz.distill`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

__all__ = [
    "DigitsTask",
    "make_digits_task",
    "train_student",
    "convergence_experiment",
    "summarize",
    "LossFn",
]

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------- the toy task
@dataclass
class DigitsTask:
    """scikit-learn's 8x8 digits, standardised and split, with a fixed teacher's logits."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    teacher_train: torch.Tensor  #: teacher logits on the training set (fixed, no grad)
    teacher_test: torch.Tensor  #: teacher logits on the test set
    teacher_accuracy: float
    num_classes: int = 10
    info: dict = field(default_factory=dict)


def make_digits_task(
    *, seed: int = 0, hidden: int = 128, teacher_steps: int = 300, test_size: float = 0.25
) -> DigitsTask:
    r"""Build the toy distillation task of chapter ``ch-gkl``.

    The data are scikit-learn's bundled 8x8 digits (1797 images, 10 classes, no download),
    standardised with training-set statistics.  The teacher is a one-hidden-layer MLP
    (64 -> ``hidden`` -> 10) trained with cross-entropy and Adam, full batch, for
    ``teacher_steps`` steps, then frozen: its logits are stored, so every student sees
    exactly the same teacher.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    # border pixels that are constant in the training set keep scale 1 (dividing by a tiny
    # std would blow up the rare test image where they are not zero)
    mean, std = x_tr.mean(0), x_tr.std(0)
    std = np.where(std < 1e-3, 1.0, std)
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    xt = torch.tensor(x_tr, dtype=torch.float32)
    xe = torch.tensor(x_te, dtype=torch.float32)
    yt = torch.tensor(y_tr, dtype=torch.long)
    ye = torch.tensor(y_te, dtype=torch.long)

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


def train_student(
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
    if steps < 1 or eval_every < 1 or batch_size < 1:
        raise ValueError("steps, eval_every and batch_size must be positive integers")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    student = nn.Linear(task.x_train.shape[1], task.num_classes)
    opt = torch.optim.SGD(student.parameters(), lr=lr)
    n = task.x_train.shape[0]
    order = torch.randperm(n, generator=gen)
    pos = 0
    rec: dict[str, list[float]] = {"step": [], "accuracy": [], "kl": []}

    def evaluate(step: int) -> None:
        with torch.no_grad():
            logits = student(task.x_test)
            rec["step"].append(step)
            rec["accuracy"].append(float((logits.argmax(1) == task.y_test).float().mean()))
            lt = torch.log_softmax(task.teacher_test / temperature, dim=-1)
            ls = torch.log_softmax(logits / temperature, dim=-1)
            rec["kl"].append(float((lt.exp() * (lt - ls)).sum(-1).mean()))

    evaluate(0)
    for step in range(1, steps + 1):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos : pos + batch_size]
        pos += batch_size
        opt.zero_grad()
        loss = loss_fn(student(task.x_train[idx]), task.teacher_train[idx], task.y_train[idx])
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss at step {step}; lower lr")
        loss.backward()
        opt.step()
        if step % eval_every == 0:
            evaluate(step)
    return {k: np.asarray(v) for k, v in rec.items()}


def convergence_experiment(
    task: DigitsTask,
    variants: Mapping[str, LossFn | tuple[LossFn, Mapping]],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    progress: bool = False,
    **train_kwargs,
) -> dict[str, dict[str, np.ndarray]]:
    """Run :func:`train_student` for every variant and seed.

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
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, s in jobs:
            spec = variants[name]
            fn, over = (spec[0], dict(spec[1])) if isinstance(spec, tuple) else (spec, {})
            runs[name].append(train_student(task, fn, seed=s, **{**train_kwargs, **over}))
    finally:
        torch.set_num_threads(threads)
    return {
        name: {
            "step": rs[0]["step"],
            "accuracy": np.stack([r["accuracy"] for r in rs]),
            "kl": np.stack([r["kl"] for r in rs]),
        }
        for name, rs in runs.items()
    }


def summarize(results: Mapping[str, Mapping[str, np.ndarray]], *, metric: str = "accuracy", at: int = -1) -> dict[str, tuple[float, float]]:
    """Mean and sample standard deviation over seeds of ``metric`` at evaluation index ``at``."""
    out = {}
    for name, r in results.items():
        v = np.asarray(r[metric])[:, at]
        out[name] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out
