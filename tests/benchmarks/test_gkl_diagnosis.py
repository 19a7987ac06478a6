"""benchmarks/gkl_diagnosis.py: its committed result parses (chapter ``ch-lab`` reads it) and the
script runs in --quick mode in seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gkl_diagnosis.py"
RESULTS = ROOT / "benchmarks" / "results"
COLUMNS = ["variant", "factor", "setting", "seeds", "last_mean", "last_sd", "d_lab", "se_lab", "t_lab", "d_ce",
           "se_ce", "t_ce", "train_acc", "train_ce", "wall_s"]


def check(out: Path, variants: set[str] | None = None) -> pd.DataFrame:
    table = pd.read_csv(out / "gkl_diagnosis.csv")
    assert list(table.columns) == COLUMNS
    assert table["variant"].is_unique and {"ce", "gkl (lab)"} <= set(table["variant"])
    if variants is not None:
        assert set(table["variant"]) == variants
    assert table["last_mean"].between(0, 100).all() and table["train_acc"].between(0, 100).all()
    lab = table.set_index("variant")
    # the paired differences are the differences of the means (same seeds in every row)
    for base, tag in (("gkl (lab)", "lab"), ("ce", "ce")):
        d = (lab["last_mean"] - lab.loc[base, "last_mean"]).drop(base)
        assert (d - lab[f"d_{tag}"].drop(base)).abs().max() < 1e-3
    meta = json.loads((out / "gkl_diagnosis.json").read_text())
    assert meta["students"] == int(table["seeds"].sum()) and meta["teacher_logit_range"] > 0
    return table


def test_committed_result_parses_and_covers_every_variant():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gkl_diagnosis
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    table = check(RESULTS, {v[0] for v in gkl_diagnosis.VARIANTS})
    assert (table["seeds"] == 5).all()


def test_quick_mode_runs_in_seconds(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    check(tmp_path, {"ce", "gkl (lab)", "per-sample"})
    assert json.loads((tmp_path / "gkl_diagnosis.json").read_text())["wall_time_s"] < 60
