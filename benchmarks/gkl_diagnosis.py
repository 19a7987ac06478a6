"""Why does GKL hurt the MNIST-1D student of the distillation lab (chapter ``ch-lab``)?

    .venv/bin/python benchmarks/gkl_diagnosis.py           # full: 20 variants x 5 seeds, ~5 CPU-minutes
    .venv/bin/python benchmarks/gkl_diagnosis.py --quick   # seconds: 2 seeds, 1 epoch (the test runs it)

The lab's setting, through :mod:`klviz.distill`'s public API (``train_teacher``, ``train_student``):
the ``cnn1d`` teacher (60 epochs, its *last* checkpoint) and ``mlp`` students (30 epochs, Adam,
learning rate 0.01, cosine schedule), student seeds 100-104, paired across variants. The lab's GKL
recipe is ``gkl`` with the book convention, ``T = 4``, wMSE weight ``alpha = 0.25``,
``gamma = 0.5``, class-wise weights (the teacher's per-class mean prediction at ``T_w = T``), CE
weight 1, no warm-up. Each variant changes one factor of that recipe (convention, wMSE weight,
class-wise weights, weight temperature, gamma, CE weight, warm-up, learning rate); ``ce``, ``kd``
and the recipe itself are the references.

Writes ``benchmarks/results/gkl_diagnosis.csv`` (one row per variant: mean and sd of the last-epoch
test accuracy over seeds, its paired difference to the lab's GKL and to CE with standard error and
t, and the last epoch's training accuracy and hard-label CE) and ``gkl_diagnosis.json`` (the
teacher, the size of its logits against a CE student's, the seeds, the time). Chapter ``ch-lab``
quotes both; ``--quick`` writes to a scratch folder unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the working tree, even without PYTHONPATH=.
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from klviz.distill import (StudentConfig, TrainConfig, load_dataset, load_teacher,  # noqa: E402
                           paired_differences, train_student, train_teacher)

RESULTS = ROOT / "benchmarks" / "results"
#: the lab's GKL recipe (chapter ch-lab); every variant changes one entry
LAB_GKL = {"loss": "gkl", "alpha": 0.25, "gamma": 0.5, "temperature": 4.0}
#: (variant, factor, setting, student fields replacing or extending LAB_GKL; None: a reference)
VARIANTS: list[tuple[str, str, str, dict]] = [
    ("ce", "reference", "labels only", {"loss": "ce", "alpha": None, "gamma": None, "temperature": None}),
    ("kd", "reference", "KD, T = 4", {"loss": "kd", "alpha": None, "gamma": None}),
    ("gkl (lab)", "reference", "the lab's recipe", {}),
    ("wmse 0", "wMSE weight", "alpha = 0 (soft-label CE only)", {"alpha": 0.0}),
    ("wmse 0.05", "wMSE weight", "alpha = 0.05", {"alpha": 0.05}),
    ("wmse 1", "wMSE weight", "alpha = 1", {"alpha": 1.0}),
    ("per-sample", "class-wise weights", "off: softmax(t/T_w)^gamma per sample", {"class_weights": False}),
    ("per-sample g1", "class-wise weights", "off, gamma = 1 (IKL's weights)", {"class_weights": False, "gamma": 1.0}),
    ("Tw 1", "weight temperature", "T_w = 1", {"weight_temperature": 1.0}),
    ("Tw 16", "weight temperature", "T_w = 16", {"weight_temperature": 16.0}),
    ("gamma 0.05", "gamma", "gamma = 0.05", {"gamma": 0.05}),
    ("gamma 1", "gamma", "gamma = 1", {"gamma": 1.0}),
    ("ce 0.1", "CE weight", "CE weight 0.1", {"ce_weight": 0.1}),
    ("ce 3", "CE weight", "CE weight 3", {"ce_weight": 3.0}),
    ("warmup 5", "warm-up", "5 epochs", {"warmup_epochs": 5}),
    ("warmup 15", "warm-up", "15 epochs", {"warmup_epochs": 15}),
    ("lr 0.003", "learning rate", "0.003", {"lr": 0.003}),
    ("lr 0.03", "learning rate", "0.03", {"lr": 0.03}),
    ("official", "convention", "official, released CIFAR values (alpha 1, beta 16, gamma 0.05)",
     {"convention": "official", "alpha": 1.0, "beta": 16.0, "gamma": 0.05}),
    ("official b1", "convention", "official, beta = 1", {"convention": "official", "alpha": 1.0, "beta": 1.0,
                                                        "gamma": 0.05}),
]
QUICK = ("ce", "gkl (lab)", "per-sample")


def _logit_range(path: Path, data) -> float:
    """Mean over training examples of max - min of a checkpoint's raw logits."""
    model, _ = load_teacher(path, data, torch.device("cpu"))
    with torch.no_grad():
        z = model(torch.as_tensor(data.x_train).float())
    return float((z.amax(1) - z.amin(1)).mean())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="2 seeds, 1 epoch, 3 variants: a test of the script")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: benchmarks/results, "
                   "or a scratch folder with --quick)")
    a = p.parse_args(argv)
    out = a.out or (Path(tempfile.mkdtemp(prefix="gkl-diag-")) if a.quick else RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="gkl-diag-runs-"))
    seeds = (100, 101) if a.quick else tuple(range(100, 105))
    t_epochs, s_epochs = (1, 1) if a.quick else (60, 30)
    start = time.perf_counter()
    teacher = train_teacher(TrainConfig(run_dir=str(work / "teacher"), model="cnn1d", epochs=t_epochs,
                                        progress=False))
    runs, rows = [], {}
    for name, factor, setting, change in VARIANTS:
        if a.quick and name not in QUICK:
            continue
        fields = {**LAB_GKL, **change}
        for seed in seeds:
            r = train_student(StudentConfig(run_dir=str(work / name.replace(" ", "_") / str(seed)), model="mlp",
                                            epochs=s_epochs, seed=seed, progress=False,
                                            teacher=None if fields["loss"] == "ce" else str(teacher.last_path),
                                            **{k: v for k, v in fields.items() if v is not None}))
            last = r.history[-1]
            runs.append({"loss": name, "seed": seed, "last_test_acc": 100 * r.last_test_acc,
                         "train_acc": 100 * last["train_acc"], "train_ce": last["train_ce"],
                         "wall_time_s": r.wall_time_s})
        rows[name] = {"variant": name, "factor": factor, "setting": setting}
    res = pd.DataFrame(runs)
    g = res.groupby("loss", sort=False)
    table = pd.DataFrame(rows).T
    table["seeds"] = g["seed"].count()
    table["last_mean"], table["last_sd"] = g["last_test_acc"].mean(), g["last_test_acc"].std(ddof=1)
    for base, tag in (("gkl (lab)", "lab"), ("ce", "ce")):
        d = paired_differences(res, baseline=base)
        table[f"d_{tag}"], table[f"se_{tag}"], table[f"t_{tag}"] = d["mean_diff"], d["se"], d["t"]
    table["train_acc"], table["train_ce"] = g["train_acc"].mean(), g["train_ce"].mean()
    table["wall_s"] = g["wall_time_s"].sum()
    table.round(4).to_csv(out / "gkl_diagnosis.csv", index=False)
    data = load_dataset("mnist1d")
    ce_dir = work / "ce" / str(seeds[0])
    meta = {"seeds": list(seeds), "teacher_epochs": t_epochs, "student_epochs": s_epochs,
            "teacher_last_test_acc": 100 * teacher.last_test_acc,
            "teacher_logit_range": _logit_range(teacher.last_path, data),
            "ce_student_logit_range": _logit_range(ce_dir / "last.pt", data),
            "students": len(res), "wall_time_s": time.perf_counter() - start,
            "command": "benchmarks/gkl_diagnosis.py" + (" --quick" if a.quick else "")}
    (out / "gkl_diagnosis.json").write_text(json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns=["factor", "setting"]).round(2).to_string(index=False))
    print(json.dumps(meta))
    print(f"wrote {out / 'gkl_diagnosis.csv'} and gkl_diagnosis.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
