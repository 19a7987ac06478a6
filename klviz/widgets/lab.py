"""Explorer for chapter ``ch-lab``, *Distillation lab* (label ``ch-lab``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from klviz.plots.lab import learning_curves
from klviz.widgets.base import Explorer

__all__ = ["learning_curves_explorer"]


def _curves_for_seed(histories, seed_index: int, teacher_acc=None, ax=None):
    runs = {name: np.atleast_2d(np.asarray(h, dtype=float))[seed_index : seed_index + 1] for name, h in histories.items()}
    return learning_curves(runs, teacher_acc=teacher_acc, ax=ax)


def learning_curves_explorer(
    histories: Mapping[str, Sequence[Sequence[float]]], *, teacher_acc: float | None = None
) -> Explorer:
    """A seed slider over :func:`klviz.plots.lab.learning_curves`: each loss's curve for one run."""
    import ipywidgets as widgets

    n_seeds = min(np.atleast_2d(np.asarray(h)).shape[0] for h in histories.values())
    control = widgets.IntSlider(value=0, min=0, max=n_seeds - 1, description="run", continuous_update=False)
    return Explorer(
        _curves_for_seed,
        {"seed_index": control},
        fixed={"histories": dict(histories), "teacher_acc": teacher_acc},
        title="Learning curves of one run per loss",
    )
