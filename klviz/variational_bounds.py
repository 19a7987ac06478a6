r"""The Donsker–Varadhan variational form of the KL divergence and a small estimator on it.

For any function (a *critic*) :math:`T` with :math:`\mathbb E_q[e^T] < \infty`,

.. math:: D_{\mathrm{KL}}(p \| q) \;\ge\; \mathbb E_{p}[T] - \log \mathbb E_{q}[e^{T}],

with equality at :math:`T = \log(p/q) + c` (Donsker & Varadhan 1983).  Maximising the right
side over a family of critics, with the expectations replaced by sample means, estimates the
KL from samples of :math:`p` and :math:`q` alone (the idea behind MINE, Belghazi et al. 2018).

- :func:`dv_bound` evaluates the bound from critic values on samples (numpy or torch);
- :func:`dv_bound_exact` evaluates it exactly for discrete ``p``, ``q`` and a critic vector;
- :func:`dv_estimate` fits a tiny torch MLP critic on one half of the samples and reports the
  bound on the other half (the half it was not fitted on, so the value is not inflated by
  over-fitting).

Chapter ``ch-information``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from klviz import _checks as checks
from klviz._backend import common

__all__ = ["dv_bound", "dv_bound_exact", "DVResult", "dv_estimate"]

ArrayLike = Any


def _values(x: Any, name: str) -> tuple[Any, bool]:
    (v,), torch_ = common(x, names=(name,))
    if v.ndim != 1 or v.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of critic values (one per sample), "
                         f"got shape {tuple(v.shape)}")
    bad = bool(~v.detach().isfinite().all()) if torch_ else not np.all(np.isfinite(v))
    if bad:
        raise ValueError(f"{name} must be finite; bound the critic's output (e.g. clamp or tanh)")
    return v, torch_


def dv_bound(t_p: ArrayLike, t_q: ArrayLike) -> Any:
    r"""The Donsker–Varadhan bound from critic values on samples:

    .. math:: \frac1n\sum_{i} T(x_i) - \log \frac1m \sum_{j} e^{T(y_j)},
              \qquad x_i \sim p,\ y_j \sim q,

    computed with a log-sum-exp.  Torch input keeps the graph (maximise it to train a critic).
    Donsker & Varadhan (1983).  Chapter ``ch-information``.
    """
    a, ta = _values(t_p, "t_p")
    b, tb = _values(t_q, "t_q")
    if ta or tb:
        (a, b), _ = common(a, b, names=("t_p", "t_q"))
        return a.mean() - (b.logsumexp(0) - math.log(b.shape[0]))
    import scipy.special  # noqa: PLC0415

    return float(a.mean() - (scipy.special.logsumexp(b) - math.log(b.shape[0])))


def dv_bound_exact(p: ArrayLike, q: ArrayLike, critic: ArrayLike) -> float:
    r"""The exact bound :math:`\sum_i p_i T_i - \log \sum_i q_i e^{T_i}` for discrete
    distributions and a critic vector ``critic`` (finite entries).  It never exceeds
    :math:`D_{\mathrm{KL}}(p\|q)` and equals it at ``critic = log(p / q)`` (any constant added).
    Donsker & Varadhan (1983).  Chapter ``ch-information``.
    """
    pp = checks.probability_vector(p, "p")
    qq = checks.probability_vector(q, "q")
    t = checks.vector(critic, "critic")
    if not (pp.shape == qq.shape == t.shape):
        raise ValueError(f"p, q and critic must have the same length, got {pp.size}, {qq.size}, {t.size}")
    import scipy.special  # noqa: PLC0415

    return float(pp @ t - scipy.special.logsumexp(t, b=qq))


@dataclass(frozen=True)
class DVResult:
    """What :func:`dv_estimate` returns: the held-out bound, the bound on the fitting half
    after the last step, and the held-out bound every ``record_every`` steps."""

    estimate: float
    train_bound: float
    steps: np.ndarray
    history: np.ndarray


def dv_estimate(
    x_p: ArrayLike,
    x_q: ArrayLike,
    *,
    hidden: int = 16,
    steps: int = 300,
    lr: float = 0.01,
    seed: int = 0,
    record_every: int = 10,
    progress: bool = False,
) -> DVResult:
    r"""Estimate :math:`D_{\mathrm{KL}}(p\|q)` from 1-D or 2-D samples ``x_p`` of :math:`p` and
    ``x_q`` of :math:`q` by maximising the Donsker–Varadhan bound over a one-hidden-layer
    tanh MLP critic (``hidden`` units), full batch, Adam, ``steps`` steps.

    The samples are split in two halves: the critic is fitted on the first and the bound
    reported (``estimate``) on the second, so it is still a lower bound in expectation up to
    the log-mean-exp's small downward bias (Jensen).  Seeded by ``seed``; ``progress`` shows a
    tqdm bar.  Donsker & Varadhan (1983); Belghazi et al. (2018).  Chapter ``ch-information``.
    """
    import torch  # noqa: PLC0415 - torch only for the estimator

    h = checks.positive_int(hidden, "hidden", hint="units of the critic's hidden layer, e.g. 16")
    n_steps = checks.positive_int(steps, "steps", hint="Adam steps, e.g. 300")
    rate = checks.positive(lr, "lr", hint="Adam's learning rate, e.g. 0.01")
    every = checks.positive_int(record_every, "record_every")
    s = checks.integer(seed, "seed", low=0)
    xs = []
    for x, name in ((x_p, "x_p"), (x_q, "x_q")):
        a = np.asarray(x, dtype=np.float64) if not hasattr(x, "detach") else x.detach().cpu().numpy()
        a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2 or a.shape[0] < 4 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must hold at least 4 finite samples (shape (n,) or (n, d)), "
                             f"got shape {a.shape}")
        xs.append(torch.as_tensor(a, dtype=torch.float32))
    if xs[0].shape[1] != xs[1].shape[1]:
        raise ValueError(f"x_p and x_q must have the same dimension, got {xs[0].shape[1]} and {xs[1].shape[1]}")
    fit_p, held_p = xs[0][: len(xs[0]) // 2], xs[0][len(xs[0]) // 2:]
    fit_q, held_q = xs[1][: len(xs[1]) // 2], xs[1][len(xs[1]) // 2:]
    gen = torch.Generator().manual_seed(s)
    torch.manual_seed(s)
    critic = torch.nn.Sequential(torch.nn.Linear(xs[0].shape[1], h), torch.nn.Tanh(), torch.nn.Linear(h, 1))
    for layer in (critic[0], critic[2]):  # initialised from this seed alone
        torch.nn.init.normal_(layer.weight, std=1.0 / math.sqrt(layer.in_features), generator=gen)
        torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(critic.parameters(), lr=rate)
    recorded_steps, history = [], []
    for step in tqdm(range(1, n_steps + 1), desc="DV critic", disable=not progress):
        opt.zero_grad()
        loss = -dv_bound(critic(fit_p)[:, 0], critic(fit_q)[:, 0])
        loss.backward()
        opt.step()
        if step % every == 0 or step == n_steps:
            with torch.no_grad():
                history.append(float(dv_bound(critic(held_p)[:, 0], critic(held_q)[:, 0])))
            recorded_steps.append(step)
    with torch.no_grad():
        train = float(dv_bound(critic(fit_p)[:, 0], critic(fit_q)[:, 0]))
    return DVResult(history[-1], train, np.array(recorded_steps), np.array(history))

