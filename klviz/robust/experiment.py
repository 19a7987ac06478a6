"""The digits experiment of chapter ``ch-robust``: methods x training ε x seeds, worst-case evaluation.

Every run goes through :func:`klviz.robust.train.train_robust` (so it is a resumable run with a
run directory of its own); each model is then evaluated on the test set under the per-example
worst case of :func:`klviz.robust.train.default_attacks` at its training ε, and along a grid of
ε for the accuracy-versus-ε curves. ``standard`` does not depend on ε: it is trained once per
seed and evaluated at every ε. ``python -m klviz.robust.experiment`` runs it from a shell.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from klviz import _checks
from klviz.robust.attacks import worst_case
from klviz.robust.methods import METHODS
from klviz.robust.train import RobustConfig, default_attacks, load_robust_model, train_robust

__all__ = ["CHAPTER_METHODS", "Experiment", "paired_table", "run_experiment", "summary_table"]

#: the methods the chapter compares
CHAPTER_METHODS: tuple[str, ...] = ("standard", "pgd_at", "trades_kl", "trades_ikl", "gkl_at")


@dataclass
class Experiment:
    """``results``: one row per (method, train ε, seed) with ``clean_acc``, ``robust_acc`` (the worst
    case) and one column per attack; ``curves``: worst-case accuracy per (method, train ε, seed, ε)."""

    results: pd.DataFrame
    curves: pd.DataFrame
    wall_time_s: float


def _test_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    from klviz.distill.data import digits_split

    d = digits_split()
    return torch.from_numpy(d.raw_test.reshape(-1, 1, 8, 8)), torch.from_numpy(d.y_test)


def run_experiment(out_dir: str | Path, *, methods: Sequence[str] = CHAPTER_METHODS,
                   eps: Sequence[float] = (0.1, 0.2), seeds: int = 3, curve_eps: Sequence[float] = (),
                   base: RobustConfig | None = None, progress: bool = True) -> Experiment:
    """Train every method at every ``eps`` with ``seeds`` seeds (0, 1, ...) on digits and evaluate.

    ``base`` holds the shared settings (model, epochs, optimiser, attack steps); runs go to
    ``out_dir/<method>-eps<eps>-seed<s>``. Chapter ``ch-robust``.
    """
    import time

    t0 = time.perf_counter()
    for m in methods:
        _checks.choice(m, "method", METHODS)
    _checks.positive_int(seeds, "seeds", hint="3 or more to judge seed noise")
    eps = [_checks.nonnegative(e, "eps") for e in eps]
    if not eps:
        raise ValueError("eps is empty; pass the training radii, e.g. (0.1, 0.2)")
    curve_eps = [_checks.nonnegative(e, "curve_eps") for e in curve_eps]
    base = base or RobustConfig(progress=False)
    if base.dataset != "digits":
        raise ValueError(f"run_experiment runs on digits, got dataset={base.dataset!r}; use the CLI for CIFAR")
    out = Path(out_dir)
    x, y = _test_tensors()
    jobs = [(m, e, s) for m in methods for e in (eps[:1] if m == "standard" else eps) for s in range(seeds)]
    rows, curves = [], []
    for m, e, s in tqdm(jobs, desc="robust runs", disable=not progress, file=sys.stderr, ascii=True):
        cfg = replace(base, method=m, eps=e, seed=s, run_dir=str(out / f"{m}-eps{e:g}-seed{s}"), force=True,
                      progress=False)
        res = train_robust(cfg)
        model = load_robust_model(str(res.last_path))
        for e_eval in (eps if m == "standard" else [e]):
            r = worst_case(model, x, y, default_attacks(e_eval, cfg.norm), seed=s)
            rows.append({"method": m, "train_eps": e_eval, "seed": s, "clean_acc": r.clean_acc,
                         "robust_acc": r.robust_acc, **r.per_attack, "train_time_s": res.wall_time_s})
        for e_curve in curve_eps:
            r = worst_case(model, x, y, default_attacks(e_curve, cfg.norm), seed=s)
            for e_train in (eps if m == "standard" else [e]):
                curves.append({"method": m, "train_eps": e_train, "seed": s, "eps": e_curve,
                               "robust_acc": r.robust_acc})
    return Experiment(pd.DataFrame(rows), pd.DataFrame(curves), time.perf_counter() - t0)


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (n - 1) of clean and worst-case robust accuracy per method and ε."""
    g = results.groupby(["train_eps", "method"], sort=False)
    return pd.DataFrame({"n": g["robust_acc"].count(),
                         "clean_mean": g["clean_acc"].mean(), "clean_std": g["clean_acc"].std(ddof=1),
                         "robust_mean": g["robust_acc"].mean(), "robust_std": g["robust_acc"].std(ddof=1)})


def paired_table(results: pd.DataFrame, baseline: str = "trades_kl", metric: str = "robust_acc") -> pd.DataFrame:
    """Differences to ``baseline`` at equal seed and ε: mean, standard error, t (per ε and method)."""
    from klviz.distill.stats import paired_differences

    parts = []
    for e, block in results.groupby("train_eps", sort=True):
        d = paired_differences(block.rename(columns={"method": "loss"}), baseline, metric)
        parts.append(d.assign(train_eps=e).reset_index().rename(columns={"loss": "method"}))
    return pd.concat(parts, ignore_index=True).set_index(["train_eps", "method"])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m klviz.robust.experiment [--out DIR] [--seeds N] [--epochs N]``: the chapter's grid."""
    p = argparse.ArgumentParser(prog="python -m klviz.robust.experiment", description=main.__doc__)
    p.add_argument("--out", default="runs/robust-digits", help="output directory (default: runs/robust-digits)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per method and eps (default: 3)")
    p.add_argument("--epochs", type=int, default=20, help="training epochs (default: 20)")
    a = p.parse_args(argv)
    try:
        exp = run_experiment(a.out, seeds=a.seeds, base=RobustConfig(epochs=a.epochs, progress=False))
    except ValueError as exc:
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 2
    table = summary_table(exp.results)
    pd.set_option("display.width", 120)
    print((100 * table.drop(columns="n")).round(2).assign(n=table["n"]).to_string())
    exp.results.to_csv(Path(a.out) / "results.csv", index=False)
    print(f"wrote {a.out}/results.csv ({exp.wall_time_s:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
