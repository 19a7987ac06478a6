r"""The experiment of the chapter ``ch-lm``: students distilled with several token-level losses,
off- and on-policy, over seeds, each judged on held-out text and on its own samples.

A student is judged by its validation NLL (bits per character: how well it covers real text),
the teacher's NLL of the student's samples (bits: how plausible its text looks to the teacher),
its own entropy along those samples (bits) and distinct-2 of the samples (diversity).
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from klviz import _checks
from klviz.lm.metrics import distinct_n, mean_entropy_bits, nll_bits_of
from klviz.lm.sampling import sample
from klviz.lm.train import LMStudentConfig, load_lm, train_lm_student

__all__ = ["COLUMNS", "RECIPES", "StudentRun", "judge_samples", "run_students", "summary_table"]

#: label -> (registered loss, its hyper-parameters): the students of the chapter
RECIPES: dict[str, tuple[str, dict[str, Any]]] = {
    "CE only": ("ce", {}),
    "forward KL": ("kd", {}),
    "reverse KL": ("js", {"beta": 1.0}),
    "JSD 0.5": ("js", {"beta": 0.5}),
    "skew KL 0.1": ("skl", {"skew": 0.1}),
    "GKL": ("gkl", {}),
}


@dataclass
class StudentRun:
    """One trained student: what it was, its metrics and two of its samples."""

    recipe: str
    policy: str
    seed: int
    metrics: dict[str, float]
    samples: list[str]
    train_s: float  #: seconds of training (the trainer's set-up, epochs and checkpoints)
    judge_s: float  #: seconds of sampling and scoring the samples
    run_dir: Path


@torch.no_grad()
def judge_samples(student: nn.Module, teacher: nn.Module, prompts: torch.Tensor, gen_len: int, *,
                  seed: int = 0, temperature: float = 1.0) -> tuple[dict[str, float], torch.Tensor]:
    """Sample ``gen_len`` tokens after each prompt (seeded) and return the teacher's NLL of the
    samples, the student's mean entropy along them (both in bits) and distinct-2 of the
    generated part, with the samples. Chapter ``ch-lm``."""
    P = prompts.shape[1]
    ids = sample(student, prompts, gen_len, temperature=temperature,
                 generator=torch.Generator(device=prompts.device).manual_seed(seed))
    return {"teacher_nll": nll_bits_of(teacher, ids, P), "entropy": mean_entropy_bits(student, ids, P),
            "distinct2": distinct_n(ids[:, P:], 2)}, ids


def _train_and_judge(base: LMStudentConfig, label: str, policy: str, seed: int, out_dir: str | Path,
                     prompts: torch.Tensor, gen_len: int, recipe: tuple[str, dict], threads: int | None) -> StudentRun:
    """Train and judge one student (a module-level function, so a worker process can run it)."""
    if threads is not None:  # a worker of a process pool: one thread each, as the chapter's kernel
        torch.set_num_threads(threads)
    loss, hypers = recipe
    teacher, tok, _ = load_lm(base.teacher)
    run_dir = Path(out_dir) / f"{loss}-{'-'.join(f'{k}{v}' for k, v in hypers.items())}-{policy}-{seed}"
    cfg = replace(base, loss=loss, policy=policy, seed=seed, run_dir=str(run_dir), force=True,
                  teacher=base.teacher if loss != "ce" else None, **hypers)
    t0 = time.perf_counter()
    res = train_lm_student(cfg)
    t1 = time.perf_counter()
    student, _, _ = load_lm(res.last_path)
    judged, ids = judge_samples(student, teacher, prompts, gen_len, seed=seed)
    metrics = {"val_bpc": res.history[-1]["val_bpc"], **judged}
    text = [tok.decode(r) for r in ids[:2, prompts.shape[1]:]]
    return StudentRun(label, policy, seed, metrics, text, t1 - t0, time.perf_counter() - t1, res.run_dir)


def run_students(base: LMStudentConfig, grid: Iterable[tuple[str, str]], seeds: Iterable[int], out_dir: str | Path,
                 prompts: torch.Tensor, gen_len: int, *, recipes: Mapping[str, tuple[str, dict]] = RECIPES,
                 workers: int = 1) -> list[StudentRun]:
    """Train a student for every ``(recipe, policy)`` of ``grid`` and every seed (``base``
    gives everything else, including the teacher), then judge its samples
    (:func:`judge_samples`, seeded by the run's seed). Chapter ``ch-lm``.

    ``workers > 1`` trains that many students at once in separate processes, each on one
    thread: every run is seeded on its own, so the results are the same as with ``workers=1``
    (only faster on a machine with that many cores). The runs come back in grid order.
    """
    workers = _checks.positive_int(workers, "workers")
    jobs = []
    for label, policy in grid:
        if label not in recipes:
            raise ValueError(f"unknown recipe {label!r}; choose from {', '.join(recipes)}")
        jobs += [(base, label, policy, seed, out_dir, prompts, gen_len, recipes[label]) for seed in seeds]
    if workers == 1:
        return [_train_and_judge(*job, None) for job in jobs]
    # spawn, not fork: a forked child of a process that already ran torch can deadlock in its thread pool
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_train_and_judge, *job, 1) for job in jobs]
        return [f.result() for f in futures]


#: the columns of :func:`summary_table`: metric -> (header, digits)
COLUMNS = {"val_bpc": ("bits/char", 3), "teacher_nll": ("teacher NLL", 3), "entropy": ("entropy", 3),
           "distinct2": ("distinct-2", 3)}


def summary_table(runs: Iterable[StudentRun]) -> pd.DataFrame:
    """One row per (recipe, policy): ``mean ± std`` over seeds of each metric of
    :data:`COLUMNS` and the number of seeds ``n``. Chapter ``ch-lm``."""
    df = pd.DataFrame([{"loss": r.recipe, "data": r.policy, **r.metrics} for r in runs])
    out = []
    for (loss, data), g in df.groupby(["loss", "data"], sort=False):
        row = {"loss": loss, "data": f"{data}-policy"}
        for k, (head, dig) in COLUMNS.items():
            sd = g[k].std(ddof=1) if len(g) > 1 else 0.0
            row[head] = f"{g[k].mean():.{dig}f} ± {sd:.{dig}f}"
        row["n"] = len(g)
        out.append(row)
    return pd.DataFrame(out).set_index(["loss", "data"])

