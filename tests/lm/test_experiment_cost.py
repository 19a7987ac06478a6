"""The chapter's experiment helpers (klviz.lm.experiment), the tempered policy (klviz.lm.rlhf)
and the vocabulary cost measurement (klviz.lm.cost)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from klviz.lm import TinyLM
from klviz.lm.cost import loss_cost
from klviz.lm.experiment import StudentRun, judge_samples, summary_table
from klviz.lm.rlhf import Tempered


def test_summary_table_mean_and_std_over_seeds():
    runs = [StudentRun("forward KL", "off", s, {"val_bpc": v, "teacher_nll": 2.0, "entropy": 1.0, "distinct2": 0.5},
                       [], 0.0, 0.0, Path(".")) for s, v in enumerate([3.0, 3.2, 3.4])]
    runs.append(StudentRun("reverse KL", "on", 0, {"val_bpc": 4.0, "teacher_nll": 1.0, "entropy": 0.5,
                                                   "distinct2": 0.25}, [], 0.0, 0.0, Path(".")))
    t = summary_table(runs)
    assert t.loc[("forward KL", "off-policy"), "bits/char"] == "3.200 ± 0.200"
    assert t.loc[("forward KL", "off-policy"), "n"] == 3 and t.loc[("reverse KL", "on-policy"), "n"] == 1


def test_judge_samples_is_seeded_and_in_range():
    torch.manual_seed(0)
    s, t = TinyLM(5, d_model=8, layers=1, heads=2, context=12).eval(), TinyLM(5, d_model=8, layers=1, heads=2,
                                                                              context=12).eval()
    prompts = torch.randint(0, 5, (6, 3))
    a, ids_a = judge_samples(s, t, prompts, 8, seed=4)
    b, ids_b = judge_samples(s, t, prompts, 8, seed=4)
    assert a == b and torch.equal(ids_a, ids_b)
    import math
    assert 0 < a["entropy"] <= math.log2(5) + 1e-9 and 0 < a["distinct2"] <= 1 and a["teacher_nll"] > 0


def test_tempered_divides_the_logits():
    torch.manual_seed(0)
    m = TinyLM(5, d_model=8, layers=1, heads=2, context=6).eval()
    x = torch.randint(0, 5, (2, 6))
    torch.testing.assert_close(Tempered(m, 0.5)(x), 2 * m(x))
    assert Tempered(m, 0.5).context == 6
    with pytest.raises(ValueError, match="temperature"):
        Tempered(m, 0.0)


def test_loss_cost_chunking_lowers_the_peak():
    full = loss_cost("kd", 64, 4000, reps=1)
    chunked = loss_cost("kd", 64, 4000, chunk_size=4, reps=1)
    assert full["time_s"] > 0 and chunked["peak_bytes"] < full["peak_bytes"]
    with pytest.raises(ValueError, match="vocab"):
        loss_cost("kd", 4, 0)
