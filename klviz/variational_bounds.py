r"""The Donsker–Varadhan variational form of the KL divergence and a small estimator on it.

For any function (a *critic*) :math:`T` with :math:`\mathbb E_q[e^T] < \infty`,

.. math:: D_{\mathrm{KL}}(p \| q) \;\ge\; \mathbb E_{p}[T] - \log \mathbb E_{q}[e^{T}],

with equality at :math:`T = \log(p/q) + c` (Donsker & Varadhan 1983).  Maximising the right
side over a family of critics, with the expectations replaced by sample means, estimates the
KL from samples of :math:`p` and :math:`q` alone (the idea behind MINE, Belghazi et al. 2018).

- :func:`dv_bound` evaluates the bound from critic values on samples (numpy or torch);
- :func:`dv_bound_exact` evaluates it exactly for discrete ``p``, ``q`` and a critic vector;
- :func:`dv_quadratic` maximises it over the quadratic critics :math:`T(x) = a x + b x^2` of
  1-D samples (a concave problem with a unique optimum);
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
from klviz._backend import torch_threads

__all__ = ["dv_bound", "dv_bound_exact", "dv_quadratic", "DVResult", "dv_estimate"]

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


def _samples_1d(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a 1-D array of at least 2 finite samples, got shape {a.shape}")
    return a


def dv_quadratic(x_p: ArrayLike, x_q: ArrayLike) -> tuple[float, tuple[float, float]]:
    r"""The Donsker–Varadhan bound maximised over the quadratic critics
    :math:`T(x) = a x + b x^2` on 1-D samples (a constant in :math:`T` cancels):

    .. math:: \max_{a, b}\; rac1n\sum_i T(x_i) - \lograc1m\sum_j e^{T(y_j)} .

    The objective is concave in :math:`(a, b)` (a linear term minus a log-sum-exp of linear
    functions), so L-BFGS finds its maximum.  The family contains the log-ratio of any two
    Gaussians, so for them the bound is the KL up to sampling error; for other pairs it is a
    lower bound.  Returns ``(bound, (a, b))``.  Donsker & Varadhan (1983).
    Chapter ``ch-information``.
    """
    import scipy.optimize  # noqa: PLC0415
    import scipy.special  # noqa: PLC0415

    xp, xq = _samples_1d(x_p, "x_p"), _samples_1d(x_q, "x_q")
    # standardise by q's spread so the two coefficients have comparable scales
    s = float(np.std(xq)) or 1.0
    fp = np.stack([xp / s, (xp / s) ** 2], axis=1)
    fq = np.stack([xq / s, (xq / s) ** 2], axis=1)
    mean_p = fp.mean(axis=0)

    def negative(w: np.ndarray) -> tuple[float, np.ndarray]:
        t = fq @ w
        lse = scipy.special.logsumexp(t) - math.log(len(t))
        weights = np.exp(t - scipy.special.logsumexp(t))
        return -(mean_p @ w - lse), -(mean_p - weights @ fq)

    res = scipy.optimize.minimize(negative, np.zeros(2), jac=True, method="L-BFGS-B")
    a, b = res.x
    return float(-res.fun), (float(a / s), float(b / s**2))


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
    weight_decay: float = 0.01,
    seed: int = 0,
    record_every: int = 10,
    progress: bool = False,
) -> DVResult:
    r"""Estimate :math:`D_{\mathrm{KL}}(p\|q)` from 1-D or 2-D samples ``x_p`` of :math:`p` and
    ``x_q`` of :math:`q` by maximising the Donsker–Varadhan bound over a one-hidden-layer
    tanh MLP critic (``hidden`` units), full batch, Adam with an L2 penalty ``weight_decay``,
    ``steps`` steps, in float64.  The penalty keeps the critic from overshooting where ``q`` has
    few samples: the bound rewards a large :math:`T` on samples of ``p`` and charges for it only
    through the samples of ``q`` nearby, so an unpenalised critic can grow where ``q`` is
    sparse and one held-out sample of ``q`` there then ruins the estimate.

    The samples are split in two halves: the critic is fitted on the first and the bound
    reported (``estimate``) on the second, so it is still a lower bound in expectation up to
    the log-mean-exp's small downward bias (Jensen).  Seeded by ``seed``; ``progress`` shows a
    tqdm bar.  Donsker & Varadhan (1983); Belghazi et al. (2018).  Chapter ``ch-information``.
    """
    import torch  # noqa: PLC0415 - torch only for the estimator

    h = checks.positive_int(hidden, "hidden", hint="units of the critic's hidden layer, e.g. 16")
    n_steps = checks.positive_int(steps, "steps", hint="Adam steps, e.g. 300")
    rate = checks.positive(lr, "lr", hint="Adam's learning rate, e.g. 0.01")
    decay = checks.nonnegative(weight_decay, "weight_decay", hint="Adam's L2 penalty, e.g. 0.01")
    every = checks.positive_int(record_every, "record_every")
    s = checks.integer(seed, "seed", low=0)
    xs = []
    for x, name in ((x_p, "x_p"), (x_q, "x_q")):
        a = np.asarray(x, dtype=np.float64) if not hasattr(x, "detach") else x.detach().cpu().numpy()
        a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2 or a.shape[0] < 4 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must hold at least 4 finite samples (shape (n,) or (n, d)), "
                             f"got shape {a.shape}")
        xs.append(torch.as_tensor(a, dtype=torch.float64))
    if xs[0].shape[1] != xs[1].shape[1]:
        raise ValueError(f"x_p and x_q must have the same dimension, got {xs[0].shape[1]} and {xs[1].shape[1]}")
    fit_p, held_p = xs[0][: len(xs[0]) // 2], xs[0][len(xs[0]) // 2:]
    fit_q, held_q = xs[1][: len(xs[1]) // 2], xs[1][len(xs[1]) // 2:]
    gen = torch.Generator().manual_seed(s)
    torch.manual_seed(s)
    critic = torch.nn.Sequential(torch.nn.Linear(xs[0].shape[1], h), torch.nn.Tanh(),
                                 torch.nn.Linear(h, 1)).double()
    for layer in (critic[0], critic[2]):  # initialised from this seed alone
        torch.nn.init.normal_(layer.weight, std=1.0 / math.sqrt(layer.in_features), generator=gen)
        torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(critic.parameters(), lr=rate, weight_decay=decay)
    # one thread: for a 16-unit critic, thread start-up and contention cost more than they
    # save (about 20x slower on a busy 2-core machine), as in klviz.distill.convergence
    with torch_threads(1):
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

