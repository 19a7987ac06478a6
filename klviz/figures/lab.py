r"""Figures of chapter ``ch-lab``, *the distillation lab*, each declared once.

- :data:`learning_curves` -- mean over seeds (line) and plus or minus one standard deviation
  (band) of a metric per epoch, one colour per loss (static; also drawn by the CLI).
- :data:`curves_by_seed` -- the same curves for one seed at a time; explorer and web slider
  over the seeds, so a reader sees how much of a gap between two losses survives a change of seed.
- :data:`accuracy_by_seed` -- one dot per seed and a mean plus or minus one standard deviation per
  loss, with the dots of one seed joined (static).

``histories[loss]`` has shape ``(seeds, epochs)``, as
:meth:`klviz.distill.compare.Comparison.histories` returns.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param, book_style

__all__ = ["learning_curves", "curves_by_seed", "accuracy_by_seed"]


def _runs(histories: Mapping, percent: bool) -> dict[str, np.ndarray]:
    if not histories:
        raise ValueError("histories is empty; pass {loss_name: array of shape (seeds, epochs)}")
    out = {}
    for name, runs in histories.items():
        a = np.atleast_2d(np.asarray(runs, dtype=float)) * (100.0 if percent else 1.0)
        if a.ndim != 2:
            raise ValueError(f"histories[{name!r}] must have shape (seeds, epochs), got {a.shape}")
        out[name] = a
    return out


def _axis_label(ylabel: str, percent: bool) -> str:
    return f"{ylabel} (%)" if percent else ylabel


def _curves_data(histories, teacher_acc, ylabel: str, percent: bool, ylim=None) -> dict:
    if ylim is not None and (len(ylim) != 2 or not ylim[0] < ylim[1]):
        raise ValueError(f"ylim must be (bottom, top) with bottom < top, got {ylim!r}")
    return {"runs": _runs(histories, percent), "axis_label": _axis_label(ylabel, percent),
            "teacher": None if teacher_acc is None else teacher_acc * (100.0 if percent else 1.0),
            "ylim": ylim}


def _curves_draw(ax, d: dict, values: dict) -> None:
    with book_style():  # the CLI draws without the notebooks' global style
        for i, (name, a) in enumerate(d["runs"].items()):
            epochs = np.arange(1, a.shape[1] + 1)
            mean = a.mean(0)
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(epochs, mean, color=colour, label=f"{name} (n={a.shape[0]})")
            if a.shape[0] > 1:
                sd = a.std(0, ddof=1)
                ax.fill_between(epochs, mean - sd, mean + sd, color=colour, alpha=0.2, linewidth=0)
        if d["teacher"] is not None:
            ax.axhline(d["teacher"], color=PALETTE[7], linestyle="--", linewidth=1.2, label="teacher")
        if d.get("ylim") is not None:
            ax.set_ylim(*d["ylim"])
        ax.legend(loc="lower right")


_EXAMPLE = {"histories": {"ce": [[0.50, 0.60, 0.65], [0.52, 0.58, 0.66]], "kd": [[0.55, 0.62, 0.70], [0.50, 0.64, 0.69]]},
            "teacher_acc": 0.9}

learning_curves = FigureSpec(
    "lab-learning-curves", None, _curves_data, _curves_draw,
    xlabel="epoch", ylabel="{axis_label}",
    inputs={"histories": REQUIRED, "teacher_acc": None, "ylabel": "test accuracy", "percent": True,
            "ylim": None},
    example=_EXAMPLE,
    doc=r"""Mean over seeds (line) and mean plus or minus one standard deviation (band) of a metric per
    epoch, one colour per loss; ``teacher_acc`` draws a dashed line; ``ylim=(bottom, top)`` fixes
    the y range.  Chapter ``ch-lab``.""",
)


def _seeds(inputs: Mapping) -> tuple[int, ...]:
    n = min(np.atleast_2d(np.asarray(h, dtype=float)).shape[0] for h in inputs["histories"].values())
    labels = tuple(int(s) for s in inputs["seeds"]) if inputs.get("seeds") is not None else tuple(range(n))
    if len(labels) != n:
        raise ValueError(f"seeds: expected {n} labels (one per run), got {len(labels)}")
    return labels


def _seed_data(histories, seeds, teacher_acc, ylabel: str, percent: bool, seed: int) -> dict:
    labels = _seeds({"histories": histories, "seeds": seeds})
    k = labels.index(seed)
    d = _curves_data({name: np.atleast_2d(np.asarray(h, dtype=float))[k: k + 1] for name, h in histories.items()},
                     teacher_acc, ylabel, percent)
    lo = min(float(a.min()) for a in _runs(histories, percent).values())
    top = 100.0 if percent else 1.0
    # one y range for every seed, so the slider compares like with like
    return {**d, "ylim": (max(0.0, lo - 0.05 * top), top)}


curves_by_seed = FigureSpec(
    "lab-curves-by-seed", "Learning curves of one run per loss: seed {seed}", _seed_data, _curves_draw,
    xlabel="epoch", ylabel="{axis_label}",
    params=(Param("seed", "seed", _seeds, fmt="{}"),),
    inputs={"histories": REQUIRED, "seeds": None, "teacher_acc": None, "ylabel": "test accuracy", "percent": True},
    example={**_EXAMPLE, "seeds": (100, 101)},
    doc=r"""The learning curves of :data:`learning_curves` for one seed at a time (``seeds`` labels the runs,
    default ``0, 1, ...``), on one y range for all seeds.  Chapter ``ch-lab``.""",
)


def _dots_data(accuracies, ylabel: str, percent: bool) -> dict:
    if not accuracies:
        raise ValueError("accuracies is empty; pass {loss_name: one accuracy per seed}")
    scale = 100.0 if percent else 1.0
    return {"names": list(accuracies), "data": [np.asarray(v, dtype=float) * scale for v in accuracies.values()],
            "axis_label": _axis_label(ylabel, percent)}


def _dots_draw(ax, d: dict, values: dict) -> None:
    names, data = d["names"], d["data"]
    with book_style():
        # the dots of one seed joined across losses: paired differences can be read off
        for s in range(min(len(v) for v in data)):
            ax.plot(range(len(names)), [v[s] for v in data], color="0.7", linewidth=0.8, zorder=1)
        for i, v in enumerate(data):
            colour = PALETTE[i % len(PALETTE)]
            ax.scatter(np.full(len(v), i), v, color=colour, s=18, zorder=2)
            sd = v.std(ddof=1) if len(v) > 1 else 0.0
            ax.errorbar(i + 0.18, v.mean(), yerr=sd, fmt="s", color=colour, capsize=4, markersize=6, zorder=3)
        ax.set_xticks(range(len(names)), names)
        ax.set_xlim(-0.5, len(names) - 0.3)


accuracy_by_seed = FigureSpec(
    "lab-accuracy-by-seed", None, _dots_data, _dots_draw,
    xlabel="student loss", ylabel="{axis_label}",
    inputs={"accuracies": REQUIRED, "ylabel": "final test accuracy", "percent": True},
    example={"accuracies": {"ce": [0.6, 0.62, 0.64], "kd": [0.65, 0.66, 0.70]}},
    doc=r"""One dot per seed and a mean plus or minus one standard deviation bar per loss; the dots of the
    same seed are joined across losses (thin grey lines), so paired differences, which is what the
    comparison rests on, can be read off the figure.  Chapter ``ch-lab``.""",
)
