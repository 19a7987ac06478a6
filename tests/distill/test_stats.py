"""klviz.distill.stats: summaries over seeds and paired differences, against direct computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from klviz.distill.stats import paired_differences, summarize

RESULTS = pd.DataFrame({
    "loss": ["ce", "kd", "ce", "kd", "ce", "kd"],
    "seed": [0, 0, 1, 1, 2, 2],
    "last_test_acc": [0.60, 0.63, 0.62, 0.66, 0.64, 0.65],
    "best_test_acc": [0.61, 0.64, 0.63, 0.66, 0.65, 0.67],
})


def test_summarize_counts_means_and_sample_sds_in_first_seen_order():
    t = summarize(RESULTS)
    assert list(t.index) == ["ce", "kd"] and list(t.columns) == ["n", "last_mean", "last_std", "best_mean", "best_std"]
    kd = [0.63, 0.66, 0.65]
    m = sum(kd) / 3
    assert t.loc["kd", "n"] == 3
    assert t.loc["kd", "last_mean"] == pytest.approx(m)
    assert t.loc["kd", "last_std"] == pytest.approx(math.sqrt(sum((v - m) ** 2 for v in kd) / 2))


def test_summarize_names_a_missing_column():
    with pytest.raises(ValueError, match="no column 'variant'"):
        summarize(RESULTS, by="variant")


def test_paired_differences_against_direct_computation():
    from scipy import stats

    d = np.array([0.03, 0.04, 0.01])
    r = paired_differences(RESULTS, "ce").loc["kd"]
    se = d.std(ddof=1) / math.sqrt(3)
    assert r["mean_diff"] == pytest.approx(d.mean()) and r["se"] == pytest.approx(se)
    assert r["t"] == pytest.approx(d.mean() / se)
    assert r["p_two_sided"] == pytest.approx(stats.ttest_rel([0.63, 0.66, 0.65], [0.60, 0.62, 0.64]).pvalue)
    assert r["wins"] == 3
    with pytest.raises(ValueError, match="baseline='js'"):
        paired_differences(RESULTS, "js")
