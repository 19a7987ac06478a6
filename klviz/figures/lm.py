r"""Figures of chapter ``ch-lm``, *distilling a language model*, each declared once.

- :data:`entropy_vs_sampling_temperature` -- the mean entropy (bits) of each model's
  next-character distribution ``softmax(z/T)`` against the sampling temperature ``T``, a point
  at the chosen ``T``; explorer and web slider over ``T``.
- :data:`loss_map` -- per loss and data regime, validation bits per character against the
  teacher's NLL of the student's samples (mean and one standard deviation over seeds).
- :data:`estimator_errors` -- the per-sequence error ``k − exact`` of the RLHF KL estimators
  (symmetric-log axis), one strip per estimator.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param, book_style

__all__ = ["entropy_vs_sampling_temperature", "estimator_errors", "loss_map"]

#: the sampling temperatures of the slider
SAMPLING_TEMPERATURES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def _mean_entropy_bits(z: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Mean over rows of H(softmax(z / T)) in bits, for each T in ``ts``."""
    out = []
    for t in ts:
        x = z / t
        x = x - x.max(-1, keepdims=True)
        lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
        out.append(float(-(np.exp(lp) * lp).sum(-1).mean() / np.log(2.0)))
    return np.array(out)


def _entropy_data(logits: Mapping, temperature: float) -> dict:
    if not logits:
        raise ValueError("logits is empty; pass {model_name: array of shape (positions, V)}")
    ts = np.geomspace(0.2, 2.5, 60)
    curves, points = {}, {}
    for name, z in logits.items():
        a = np.asarray(z, dtype=float)
        if a.ndim != 2:
            raise ValueError(f"logits[{name!r}] must have shape (positions, V), got {a.shape}")
        curves[name] = _mean_entropy_bits(a, ts)
        points[name] = float(_mean_entropy_bits(a, np.array([temperature]))[0])
    return {"ts": ts, "curves": curves, "points": points}


def _entropy_draw(ax, d: dict, values: dict) -> None:
    t = float(values["temperature"])
    with book_style():
        for i, (name, h) in enumerate(d["curves"].items()):
            c = PALETTE[i % len(PALETTE)]
            ax.plot(d["ts"], h, color=c, label=f"{name}: {d['points'][name]:.2f} bits at T = {t:g}")
            ax.plot([t], [d["points"][name]], "o", color=c, markersize=7)
        ax.axvline(t, color=PALETTE[7], linestyle=":", linewidth=1.0)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")


entropy_vs_sampling_temperature = FigureSpec(
    "lm-entropy-vs-temperature", "Entropy of the next-character distribution at sampling temperature T",
    _entropy_data, _entropy_draw,
    xlabel="sampling temperature $T$ (log scale)", ylabel="mean entropy [bits]",
    params=(Param("temperature", "T", SAMPLING_TEMPERATURES, default=1.0),),
    inputs={"logits": REQUIRED},
    example={"logits": {"teacher": [[2.0, 1.0, 0.0, -1.0], [0.5, 0.2, 0.1, 0.0]],
                        "student": [[1.0, 0.8, 0.5, 0.0], [0.1, 0.1, 0.0, 0.0]]}},
    doc=r"""For each model the mean over positions of :math:`H(\mathrm{softmax}(z/T))` in bits against the
    sampling temperature :math:`T` (log axis), a point at the chosen :math:`T`: what sampling at
    temperature :math:`T` does to the diversity of a model's text.  Chapter ``ch-lm``.""",
)


def _map_data(results: Mapping) -> dict:
    if not results:
        raise ValueError("results is empty; pass {label: (bpc values per seed, teacher NLL values per seed)}")
    rows = []
    for label, (bpc, nll) in results.items():
        b, n = np.asarray(bpc, dtype=float), np.asarray(nll, dtype=float)
        if b.shape != n.shape or b.ndim != 1:
            raise ValueError(f"results[{label!r}]: give two equal-length lists (one value per seed)")
        sd = (lambda v: float(v.std(ddof=1)) if len(v) > 1 else 0.0)
        rows.append((label, float(b.mean()), sd(b), float(n.mean()), sd(n), len(b)))
    return {"rows": rows}


def _map_draw(ax, d: dict, values: dict) -> None:
    with book_style():
        for i, (label, bm, bs, nm, ns, k) in enumerate(d["rows"]):
            marker = "s" if "on" in label.split()[-1] else "o"
            ax.errorbar(bm, nm, xerr=bs, yerr=ns, fmt=marker, color=PALETTE[i % len(PALETTE)], capsize=3,
                        markersize=7, label=f"{label} (n={k})")
        ax.legend(loc="best", fontsize=8)


loss_map = FigureSpec(
    "lm-loss-map", None, _map_data, _map_draw,
    xlabel="validation NLL [bits per character]", ylabel="teacher's NLL of the samples [bits]",
    inputs={"results": REQUIRED},
    example={"results": {"forward KL, off": ([3.0, 3.1], [2.5, 2.6]), "reverse KL, on": ([3.3, 3.2], [2.0, 2.1])}},
    doc=r"""One point per student loss and data regime: the mean over seeds of the validation NLL (how
    well the student covers real text) against the teacher's NLL of the student's own samples
    (how plausible its text looks to the teacher), with bars of one standard deviation; squares
    mark on-policy runs (labels ending in "on").  Chapter ``ch-lm``.""",
)


def _err_data(errors: Mapping) -> dict:
    if not errors:
        raise ValueError("errors is empty; pass {estimator: per-sequence k - exact}")
    return {"errors": {k: np.asarray(v, dtype=float).ravel() for k, v in errors.items()}}


def _err_draw(ax, d: dict, values: dict) -> None:
    rng = np.random.default_rng(0)  # jitter only: the positions are not data
    with book_style():
        for i, (name, e) in enumerate(d["errors"].items()):
            ax.scatter(i + 0.25 * rng.uniform(-1, 1, e.size), e, s=6, alpha=0.4, color=PALETTE[i % len(PALETTE)])
            ax.plot([i - 0.35, i + 0.35], [e.mean()] * 2, color="k", linewidth=2)
        ax.axhline(0.0, color=PALETTE[7], linewidth=1.0, linestyle="--")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_xticks(range(len(d["errors"])), list(d["errors"]))


estimator_errors = FigureSpec(
    "lm-estimator-errors", None, _err_data, _err_draw,
    xlabel="estimator of the sequence KL", ylabel="estimate − exact chain-rule sum [nats]",
    inputs={"errors": REQUIRED},
    example={"errors": {"k1": [0.5, -0.3, 1.2], "k3": [0.1, 3.0, -0.2]}},
    doc=r"""Per sampled sequence, the estimator's value minus the exact sum of per-position KLs along the
    same sample (symmetric-log axis, linear within :math:`\pm 1`); a black bar marks the mean, the
    estimator's bias plus sampling noise.  Chapter ``ch-lm``.""",
)
