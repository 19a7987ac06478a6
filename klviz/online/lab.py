"""Kernel-free slider figure for chapter ``ch-lab``, *Distillation lab* (label ``ch-lab``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from klviz.online.base import slider_figure

__all__ = ["learning_curves_by_seed_slider"]


def learning_curves_by_seed_slider(
    histories: Mapping[str, Sequence[Sequence[float]]],
    *,
    seeds: Sequence[int] | None = None,
    teacher_acc: float | None = None,
    ylabel: str = "test accuracy (%)",
):
    """Plotly learning curves of every loss for one seed at a time, chosen with a slider.

    ``histories[loss]`` has shape ``(seeds, epochs)`` (as
    :meth:`klviz.distill.compare.Comparison.histories` returns); the same data as the static
    :func:`klviz.plots.lab.learning_curves`, which draws the mean and spread over seeds.
    Seeing the runs one seed at a time shows how much of a gap between two losses survives
    a change of seed.
    """
    if not histories:
        raise ValueError("histories is empty; pass {loss_name: array of shape (seeds, epochs)}")
    arrays = {name: 100.0 * np.atleast_2d(np.asarray(h, dtype=float)) for name, h in histories.items()}
    n_seeds = min(a.shape[0] for a in arrays.values())
    labels = list(seeds) if seeds is not None else list(range(n_seeds))
    if len(labels) != n_seeds:
        raise ValueError(f"seeds: expected {n_seeds} labels (one per run), got {len(labels)}")
    epochs = int(max(a.shape[1] for a in arrays.values()))
    lo = min(float(a.min()) for a in arrays.values())

    def frame(i: float):
        k = int(i)
        traces = [
            {"x": list(range(1, a.shape[1] + 1)), "y": a[k].tolist(), "name": name}
            for name, a in arrays.items()
        ]
        if teacher_acc is not None:
            traces.append(
                {"x": [1, epochs], "y": [100 * teacher_acc] * 2, "name": "teacher", "dash": "dash", "color": "#000000"}
            )
        return traces

    fig = slider_figure(
        frame,
        list(range(n_seeds)),
        slider_label="run",
        title="Test accuracy per epoch, one seed at a time",
        xaxis_title="epoch",
        yaxis_title=ylabel,
        yaxis_range=[max(0.0, lo - 5.0), 100.0],
        active=0,
    )
    for step, label in zip(fig.layout.sliders[0].steps, labels):
        step.label = f"seed {label}"
    return fig
