"""Compare distillation losses: one teacher, then one student per loss and seed.

Every student of seed ``s`` starts from the same weights and sees the same batches whatever its
loss, so the comparison is *paired*: the difference between two losses at one seed is free of
the initialisation and data-order noise they share, and its spread over seeds is the noise left.
Chapter ``ch-lab`` (the distillation lab) uses :func:`run_comparison` and :func:`paired_differences`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klviz.distill.train import (
    HYPER,
    ConfigError,
    RunResult,
    StudentConfig,
    TrainConfig,
    _validate,
    loss_names,
    train_student,
    train_teacher,
)

__all__ = ["CompareConfig", "Comparison", "paired_differences", "run_comparison", "summarise"]


@dataclass
class CompareConfig:
    """A teacher recipe, a student recipe, the losses and the number of seeds.

    ``student`` hyper-parameters (``temperature``, ``beta``, ...) apply to every loss that takes
    them and are ignored by the others; ``loss_options[name]`` overrides any student field for
    one loss, e.g. ``{"dkd": {"beta": 2.0}}``. ``teacher_checkpoint`` reuses a trained teacher.
    """

    out_dir: str = "runs/compare"
    losses: tuple[str, ...] = ("ce", "kd", "dkd", "gkl")
    seeds: int = 3
    #: students use seeds first_seed .. first_seed + seeds - 1
    first_seed: int = 0
    teacher: TrainConfig = field(default_factory=TrainConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    loss_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    teacher_checkpoint: str | None = None
    progress: bool = True
    force: bool = False


@dataclass
class Comparison:
    """All runs of a comparison; ``runs[(loss, seed)]`` is a :class:`RunResult`."""

    teacher: RunResult | None
    runs: dict[tuple[str, int], RunResult]
    out_dir: Path

    def results(self) -> pd.DataFrame:
        """One row per student run: loss, seed, best and last test accuracy, wall time."""
        rows = [
            {"loss": k[0], "seed": k[1], "best_test_acc": r.best_test_acc, "last_test_acc": r.last_test_acc, "wall_time_s": r.wall_time_s}
            for k, r in self.runs.items()
        ]
        return pd.DataFrame(rows)

    def curves(self) -> pd.DataFrame:
        """Long table of the per-epoch metrics of every student run."""
        rows = [{"loss": k[0], "seed": k[1], **h} for k, r in self.runs.items() for h in r.history]
        return pd.DataFrame(rows)

    def histories(self, metric: str = "test_acc") -> dict[str, np.ndarray]:
        """``{loss: array (seeds, epochs)}`` of one metric, for :func:`klviz.plots.lab.learning_curves`."""
        out: dict[str, list[list[float]]] = {}
        for (loss, _), r in self.runs.items():
            out.setdefault(loss, []).append([h[metric] for h in r.history])
        return {k: np.asarray(v) for k, v in out.items()}


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample standard deviation and count of best and last test accuracy per loss."""
    g = results.groupby("loss", sort=False)
    table = pd.DataFrame(
        {
            "n": g["last_test_acc"].count(),
            "last_mean": g["last_test_acc"].mean(),
            "last_std": g["last_test_acc"].std(ddof=1),
            "best_mean": g["best_test_acc"].mean(),
            "best_std": g["best_test_acc"].std(ddof=1),
        }
    )
    return table


def paired_differences(results: pd.DataFrame, baseline: str = "ce", metric: str = "last_test_acc") -> pd.DataFrame:
    r"""Per-loss difference to ``baseline`` at equal seed: mean, standard error and a t statistic.

    With :math:`d_s = a_{\mathrm{loss},s} - a_{\mathrm{baseline},s}` over :math:`n` seeds,
    :math:`\bar d`, :math:`\mathrm{SE} = \mathrm{sd}(d)/\sqrt n` and :math:`t = \bar d/\mathrm{SE}`
    (compare with Student's t with :math:`n-1` degrees of freedom; |t| above about 4.3 for
    n = 3, 2.8 for n = 5, is significant at the two-sided 5 % level).
    """
    from scipy import stats

    wide = results.pivot(index="seed", columns="loss", values=metric)
    if baseline not in wide:
        raise ValueError(f"baseline={baseline!r} is not among the losses {list(wide.columns)}")
    rows = []
    for loss in wide.columns:
        if loss == baseline:
            continue
        d = (wide[loss] - wide[baseline]).dropna().to_numpy()
        n = len(d)
        mean = float(d.mean())
        se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        t = mean / se if se > 0 else float("nan")
        p = float(2 * stats.t.sf(abs(t), n - 1)) if n > 1 and se > 0 else float("nan")
        rows.append({"loss": loss, "n": n, "mean_diff": mean, "se": se, "t": t, "p_two_sided": p, "wins": int((d > 0).sum())})
    return pd.DataFrame(rows).set_index("loss")


def _student_for(cfg: CompareConfig, loss: str, seed: int, teacher_path: str | None) -> StudentConfig:
    from klviz.losses import LOSSES

    base = cfg.student
    accepted = set(inspect.signature(LOSSES[loss]).parameters) if loss in LOSSES else set()
    changes: dict[str, Any] = {k: None for k in HYPER if k not in accepted}
    changes.update(cfg.loss_options.get(loss, {}))
    unknown = set(changes) - {f.name for f in dataclasses.fields(StudentConfig)}
    if unknown:
        raise ConfigError(f"loss_options[{loss!r}] sets unknown fields {sorted(unknown)}")
    return dataclasses.replace(
        base,
        **changes,
        loss=loss,
        seed=seed,
        teacher=None if loss == "ce" else teacher_path,
        run_dir=str(Path(cfg.out_dir) / loss / f"seed{seed}"),
        progress=cfg.progress,
        force=cfg.force,
        resume=False,
    )


def run_comparison(cfg: CompareConfig) -> Comparison:
    """Train (or reuse) the teacher, then a student for every loss and seed; write the results.

    Writes ``results.csv`` (one row per run), ``summary.csv`` (mean and std per loss),
    ``curves.csv`` (per-epoch metrics) and ``learning_curves.png`` to ``out_dir``.
    """
    names = loss_names()
    for loss in cfg.losses:
        if loss not in names:
            raise ConfigError(f"unknown loss {loss!r}; choose from: {', '.join(names)}")
    if cfg.seeds < 1:
        raise ConfigError(f"seeds={cfg.seeds}: use at least 1 (3 or more to judge seed noise)")
    out = Path(cfg.out_dir)
    if (out / "results.csv").exists() and not cfg.force:
        raise ConfigError(f"{out} already has results (results.csv); pass --force to overwrite or choose another --out")
    # check every student recipe before spending time on the teacher
    for loss in cfg.losses:
        _validate(_student_for(cfg, loss, 0, cfg.teacher_checkpoint or "teacher.pt"), 1)

    teacher = None
    teacher_path = cfg.teacher_checkpoint
    if teacher_path is None and any(loss != "ce" for loss in cfg.losses):
        tcfg = dataclasses.replace(cfg.teacher, run_dir=str(out / "teacher"), progress=cfg.progress, force=cfg.force, resume=False)
        teacher = train_teacher(tcfg)
        # the last checkpoint: the best one is picked on the test set
        teacher_path = str(teacher.last_path)

    runs: dict[tuple[str, int], RunResult] = {}
    for seed in range(cfg.first_seed, cfg.first_seed + cfg.seeds):
        for loss in cfg.losses:
            runs[(loss, seed)] = train_student(_student_for(cfg, loss, seed, teacher_path))
    comp = Comparison(teacher, runs, out)

    out.mkdir(parents=True, exist_ok=True)
    res = comp.results()
    summarise(res).to_csv(out / "summary.csv")
    comp.curves().to_csv(out / "curves.csv", index=False)
    from klviz.plots.lab import learning_curves

    fig = learning_curves(comp.histories("test_acc"), teacher_acc=teacher.last_test_acc if teacher else None)
    fig.savefig(out / "learning_curves.png", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    res.to_csv(out / "results.csv", index=False)  # last: its presence marks a finished comparison
    return comp
