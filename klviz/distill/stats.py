r"""Statistics over seeds: the mean and spread of each variant, and paired differences.

Every run of seed ``s`` starts from the same weights and sees the same batches whatever its loss
(or, in the convergence experiment, its variant), so differences at equal seed are *paired*:
free of the initialisation and data-order noise the runs share. Chapters ``ch-gkl`` and ``ch-lab``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

__all__ = ["paired_differences", "summarize"]

#: the metrics of a comparison's results table and the column prefixes of their summaries
RUN_METRICS = {"last_test_acc": "last", "best_test_acc": "best"}


def summarize(results: pd.DataFrame, *, by: str = "loss", metrics: Mapping[str, str] | None = None) -> pd.DataFrame:
    r"""Count, mean and sample standard deviation (:math:`n - 1` in the denominator) per group.

    ``results`` is a long table, one row per run (a column ``by`` and one column per metric):
    :meth:`klviz.distill.compare.Comparison.results` or
    :func:`klviz.distill.convergence.final_table`. ``metrics`` maps each metric column to the
    prefix of its summary columns (default: ``last_test_acc`` -> ``last_mean``/``last_std`` and
    ``best_test_acc`` -> ``best_mean``/``best_std``). Groups keep their order of first appearance.
    """
    metrics = dict(RUN_METRICS if metrics is None else metrics)
    missing = [c for c in (by, *metrics) if c not in results.columns]
    if missing:
        raise ValueError(f"results has no column {missing[0]!r} (columns: {', '.join(map(str, results.columns))}); "
                         "pass by= and metrics= naming its columns")
    g = results.groupby(by, sort=False)
    table = {"n": g[next(iter(metrics))].count()}
    for col, prefix in metrics.items():
        table[f"{prefix}_mean"] = g[col].mean()
        table[f"{prefix}_std"] = g[col].std(ddof=1)
    return pd.DataFrame(table)


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
