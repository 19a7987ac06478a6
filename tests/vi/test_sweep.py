"""beta_sweep collects one run per (beta, seed) into arrays the chapter's figures read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from klviz.vi.sweep import beta_sweep

QUICK = {"epochs": 2, "train_subset": 200, "test_subset": 50, "latent_dim": 3, "hidden": 16}


def test_arrays_match_the_metrics_files(tmp_path):
    import torch

    threads = torch.get_num_threads()
    s = beta_sweep((0.5, 2.0), (0, 1), tmp_path, progress=False, **QUICK)
    assert torch.get_num_threads() == threads  # restored after the one-thread runs
    assert s.rate.shape == s.distortion.shape == s.active.shape == (2, 2)
    assert s.kl.shape == (2, 2, 3) and s.rate_curve.shape == (2, 2, 2)
    h = json.loads((s.run_dirs[2.0, 1] / "metrics.json").read_text())["history"]
    assert s.rate[1, 1] == h[-1]["test_rate"] and s.distortion[1, 1] == h[-1]["test_distortion"]
    assert s.rate_curve[1, 1].tolist() == [r["test_rate"] for r in h]
    np.testing.assert_allclose(s.kl.sum(-1), s.rate, rtol=1e-9)
    row = s.summary()[0]
    assert row["beta"] == 0.5 and row["rate_mean"] == pytest.approx(s.rate[0].mean())
    assert row["rate_std"] == pytest.approx(s.rate[0].std(ddof=1))
    assert s.index(2.0) == 1
    with pytest.raises(ValueError, match="beta=3.0 was not trained"):
        s.index(3.0)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="betas"):
        beta_sweep((-1.0,), (0,), tmp_path, progress=False, **QUICK)
    with pytest.raises(ValueError, match="at least one"):
        beta_sweep((), (0,), tmp_path, progress=False, **QUICK)
    with pytest.raises(ValueError, match="seeds"):
        beta_sweep((1.0,), (-1,), tmp_path, progress=False, **QUICK)
