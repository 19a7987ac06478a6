"""The chapter's experiment runner and its command line, on a tiny grid."""

from __future__ import annotations

import pytest
import torch

from klviz.robust import RobustConfig
from klviz.robust.experiment import main, paired_table, run_experiment, summary_table


def test_tiny_grid_has_one_row_per_run_and_eps(tmp_path):
    torch.set_num_threads(1)
    exp = run_experiment(tmp_path, methods=("standard", "trades_kl"), eps=(0.1, 0.2), seeds=2,
                         curve_eps=(0.0, 0.1), base=RobustConfig(epochs=1, progress=False), progress=False)
    # standard: trained once per seed, evaluated at both eps; trades_kl: per eps and seed
    assert len(list(tmp_path.glob("*-seed*"))) == 2 + 4
    assert len(exp.results) == 4 + 4
    assert len(exp.curves) == 2 * (4 + 4)
    zero = exp.curves[exp.curves["eps"] == 0.0]
    merged = zero.merge(exp.results, on=["method", "train_eps", "seed"])
    assert (merged["robust_acc_x"] == merged["clean_acc"]).all()  # eps = 0 is clean accuracy
    t = summary_table(exp.results)
    assert set(t.index.get_level_values("method")) == {"standard", "trades_kl"} and (t["n"] == 2).all()
    d = paired_table(exp.results, baseline="standard")
    assert list(d.index) == [(0.1, "trades_kl"), (0.2, "trades_kl")]


@pytest.mark.parametrize("kw,match", [({"methods": ("fgsm_at",)}, "method must be one of"),
                                      ({"seeds": 0}, "seeds"), ({"eps": (-0.1,)}, "eps"), ({"eps": ()}, "eps is empty")])
def test_bad_grids_are_one_line_errors(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        run_experiment(tmp_path, **kw)


def test_command_line_writes_results(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--seeds", "1", "--epochs", "1"]) == 0
    assert (tmp_path / "results.csv").exists()
    assert "robust_mean" in capsys.readouterr().out
    assert main(["--out", str(tmp_path), "--seeds", "0"]) == 2
