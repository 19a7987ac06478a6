"""Figures of the distillation lab (Chapter ``ch-lab``): learning curves and accuracy across seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from klviz.plots.style import PALETTE, book_style, new_axes

__all__ = ["accuracy_by_seed", "learning_curves"]


def learning_curves(
    histories: Mapping[str, Sequence[Sequence[float]]],
    *,
    teacher_acc: float | None = None,
    ylabel: str = "test accuracy",
    percent: bool = True,
    ax=None,
):
    """Mean over seeds (line) and mean ± one standard deviation (band) of a metric per epoch.

    ``histories[name]`` is an array of shape ``(seeds, epochs)``, e.g.
    :meth:`klviz.distill.compare.Comparison.histories`. ``teacher_acc`` draws a dashed line.
    """
    if not histories:
        raise ValueError("histories is empty; pass {loss_name: array of shape (seeds, epochs)}")
    fig, ax = new_axes(ax)
    scale = 100.0 if percent else 1.0
    with book_style():
        for i, (name, runs) in enumerate(histories.items()):
            a = np.asarray(runs, dtype=float) * scale
            if a.ndim == 1:
                a = a[None, :]
            if a.ndim != 2:
                raise ValueError(f"histories[{name!r}] must have shape (seeds, epochs), got {a.shape}")
            epochs = np.arange(1, a.shape[1] + 1)
            mean = a.mean(0)
            colour = PALETTE[i % len(PALETTE)]
            ax.plot(epochs, mean, color=colour, label=f"{name} (n={a.shape[0]})")
            if a.shape[0] > 1:
                sd = a.std(0, ddof=1)
                ax.fill_between(epochs, mean - sd, mean + sd, color=colour, alpha=0.2, linewidth=0)
        if teacher_acc is not None:
            ax.axhline(teacher_acc * scale, color=PALETTE[7], linestyle="--", linewidth=1.2, label="teacher")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{ylabel} (%)" if percent else ylabel)
        ax.legend(loc="lower right")
    return fig


def accuracy_by_seed(
    accuracies: Mapping[str, Sequence[float]],
    *,
    ylabel: str = "final test accuracy",
    percent: bool = True,
    ax=None,
):
    """One dot per seed and a mean ± standard deviation bar per loss.

    Dots of the same seed are joined across losses (thin grey lines), so paired differences,
    which is what the comparison rests on, can be read off the figure.
    """
    if not accuracies:
        raise ValueError("accuracies is empty; pass {loss_name: one accuracy per seed}")
    fig, ax = new_axes(ax)
    scale = 100.0 if percent else 1.0
    names = list(accuracies)
    data = [np.asarray(accuracies[n], dtype=float) * scale for n in names]
    with book_style():
        n_seeds = min(len(d) for d in data)
        for s in range(n_seeds):
            ax.plot(range(len(names)), [d[s] for d in data], color="0.7", linewidth=0.8, zorder=1)
        for i, d in enumerate(data):
            colour = PALETTE[i % len(PALETTE)]
            ax.scatter(np.full(len(d), i), d, color=colour, s=18, zorder=2)
            sd = d.std(ddof=1) if len(d) > 1 else 0.0
            ax.errorbar(i + 0.18, d.mean(), yerr=sd, fmt="s", color=colour, capsize=4, markersize=6, zorder=3)
        ax.set_xticks(range(len(names)), names)
        ax.set_xlim(-0.5, len(names) - 0.3)
        ax.set_xlabel("student loss")
        ax.set_ylabel(f"{ylabel} (%)" if percent else ylabel)
    return fig
