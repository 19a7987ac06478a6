r"""Train the VAE of :mod:`klviz.vi.train` across :math:`\beta` and seeds and collect what chapter
``ch-vi`` shows: the rate and distortion (nats per image), the per-dimension rate, the active units
and the test rate per epoch, one entry per :math:`(\beta, \text{seed})`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from klviz import _checks as checks
from klviz.vi.train import VAEConfig, train_vae
from klviz._backend import torch_threads

__all__ = ["BetaSweep", "beta_sweep"]


@dataclass
class BetaSweep:
    """Results of :func:`beta_sweep`: arrays indexed ``[beta, seed]`` (last run's final epoch)."""

    betas: tuple[float, ...]
    seeds: tuple[int, ...]
    rate: np.ndarray  #: (B, S) test rate, nats per image
    distortion: np.ndarray  #: (B, S) test distortion, nats per image
    kl: np.ndarray  #: (B, S, k) test rate per latent dimension
    active: np.ndarray  #: (B, S) latent dimensions with rate > threshold
    rate_curve: np.ndarray  #: (B, S, epochs) test rate after each epoch
    threshold: float
    run_dirs: dict[tuple[float, int], Path] = field(default_factory=dict)
    wall_time_s: float = 0.0

    @property
    def elbo(self) -> np.ndarray:
        """(B, S) test ELBO :math:`-(D + R)`."""
        return -(self.rate + self.distortion)

    def summary(self) -> list[dict[str, Any]]:
        """One row per beta: mean and standard deviation (``ddof=1``; 0 for one seed) over seeds."""
        sd = (lambda a: a.std(1, ddof=1)) if len(self.seeds) > 1 else (lambda a: np.zeros(a.shape[0]))
        cols = {"rate": self.rate, "distortion": self.distortion, "elbo": self.elbo, "active": self.active}
        return [{"beta": b, **{f"{k}_mean": float(v.mean(1)[i]) for k, v in cols.items()},
                 **{f"{k}_std": float(sd(v)[i]) for k, v in cols.items()}} for i, b in enumerate(self.betas)]

    def index(self, beta: float) -> int:
        """Position of ``beta`` in :attr:`betas` (ValueError if it was not trained)."""
        for i, b in enumerate(self.betas):
            if np.isclose(b, beta):
                return i
        raise ValueError(f"beta={beta} was not trained; choose one of {list(self.betas)}")


def beta_sweep(betas, seeds, run_root, *, progress: bool = True, **overrides: Any) -> BetaSweep:
    r"""Train one VAE per :math:`(\beta, \text{seed})` with :func:`klviz.vi.train.train_vae` (other
    :class:`~klviz.vi.train.VAEConfig` fields from ``overrides``) into ``run_root/beta<b>_seed<s>``,
    showing one progress bar over the runs.  Chapter ``ch-vi``."""
    betas = tuple(checks.nonnegative(b, "betas") for b in betas)
    seeds = tuple(checks.integer(s, "seeds", low=0) for s in seeds)
    if not betas or not seeds:
        raise ValueError("betas and seeds must each hold at least one value")
    cfg = VAEConfig(**{"progress": False, "force": True, **overrides})
    root = Path(run_root)
    rows: dict[tuple[int, int], list[dict]] = {}
    dirs: dict[tuple[float, int], Path] = {}
    t0 = time.perf_counter()
    runs = [(i, j) for i in range(len(betas)) for j in range(len(seeds))]
    # one thread, as klviz.distill.convergence does for its tiny models: for a 64-128-8 MLP,
    # thread start-up and contention cost more than they save (5-20x slower on a busy 2-core
    # machine, measured); the numbers do not depend on it
    with torch_threads(1):
        for i, j in tqdm(runs, desc="VAE runs", disable=not progress, ascii=True):
            run_dir = root / f"beta{betas[i]:g}_seed{seeds[j]}"
            res = train_vae(cfg, run_dir=str(run_dir), beta=betas[i], seed=seeds[j])
            rows[i, j], dirs[betas[i], seeds[j]] = res.history, run_dir
    k = cfg.latent_dim

    def grid(f) -> np.ndarray:
        return np.array([[f(rows[i, j]) for j in range(len(seeds))] for i in range(len(betas))], dtype=float)

    return BetaSweep(
        betas, seeds,
        rate=grid(lambda h: h[-1]["test_rate"]), distortion=grid(lambda h: h[-1]["test_distortion"]),
        kl=grid(lambda h: [h[-1][f"test_kl_{d}"] for d in range(k)]), active=grid(lambda h: h[-1]["test_active_units"]),
        rate_curve=grid(lambda h: [r["test_rate"] for r in h]), threshold=cfg.active_threshold,
        run_dirs=dirs, wall_time_s=time.perf_counter() - t0)
