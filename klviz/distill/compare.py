"""Compare distillation losses: one teacher, then one student per loss and seed.

Every student of seed ``s`` starts from the same weights and sees the same batches whatever its
loss, so the comparison is *paired* (see :mod:`klviz.distill.stats`). Chapter ``ch-lab`` (the
distillation lab) uses :func:`run_comparison`; it draws the learning curves itself, as does the
``compare`` command of :mod:`klviz.distill.cli` (this module computes and writes tables only).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klviz.distill.config import HYPERS, CompareConfig, ConfigError, StudentConfig, validate
from klviz.distill.files import atomic_write
from klviz.distill.objective import uses_class_stats
from klviz.distill.stats import paired_differences, summarize
from klviz.distill.train import RunResult, train_student, train_teacher
from klviz.losses import REGISTRY

__all__ = ["CompareConfig", "Comparison", "paired_differences", "run_comparison", "summarize"]


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
        """``{loss: array (seeds, epochs)}`` of one metric, the input of the lab's learning-curve figures."""
        out: dict[str, list[list[float]]] = {}
        for (loss, _), r in self.runs.items():
            out.setdefault(loss, []).append([h[metric] for h in r.history])
        return {k: np.asarray(v) for k, v in out.items()}


def _student_for(cfg: CompareConfig, loss: str, seed: int, teacher_path: str | None) -> StudentConfig:
    accepted = set(REGISTRY[loss].hyper_names()) if loss in REGISTRY else set()
    changes: dict[str, Any] = {k: None for k in HYPERS if k not in accepted}
    if loss == "ce" or not uses_class_stats(loss):
        changes["class_weights"] = True  # the switch applies to the class-wise losses only
    changes.update(cfg.loss_options.get(loss, {}))
    unknown = set(changes) - {f.name for f in dataclasses.fields(StudentConfig)}
    if unknown:
        raise ConfigError(f"loss_options[{loss!r}] sets unknown fields {sorted(unknown)}")
    return dataclasses.replace(
        cfg.student,
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

    Writes ``results.csv`` (one row per run), ``summary.csv`` (mean and std per loss) and
    ``curves.csv`` (per-epoch metrics) to ``out_dir``.
    """
    validate(cfg)
    out = Path(cfg.out_dir)
    if (out / "results.csv").exists() and not cfg.force:
        raise ConfigError(f"{out} already has results (results.csv); pass --force to overwrite or choose another --out")
    # check every student recipe before spending time on the teacher
    for loss in cfg.losses:
        validate(_student_for(cfg, loss, 0, cfg.teacher_checkpoint or "teacher.pt"))

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

    res = comp.results()
    for name, table, index in (("summary.csv", summarize(res), True), ("curves.csv", comp.curves(), False),
                               ("results.csv", res, False)):  # results.csv last: it marks a finished comparison
        with atomic_write(out / name, "w", newline="") as fh:
            table.to_csv(fh, index=index)
    return comp
