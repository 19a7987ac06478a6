"""Explorer of chapter ``ch-cross-entropy``, Cross-entropy: the loss curve under label smoothing."""

from __future__ import annotations

from klviz.plots.crossentropy import ce_smoothing_figure, logits_memory_figure
from klviz.widgets.base import Explorer

__all__ = ["smoothing_explorer", "memory_explorer"]


def smoothing_explorer(epsilon: float = 0.1, num_classes: int = 10) -> Explorer:
    r"""Sliders for the smoothing :math:`\varepsilon` and the number of classes :math:`C`
    over :func:`klviz.plots.crossentropy.ce_smoothing_figure` (the chapter's static figure)."""
    import ipywidgets as w

    return Explorer(
        ce_smoothing_figure,
        {
            "epsilon": w.FloatSlider(value=epsilon, min=0.0, max=0.5, step=0.01,
                                     description="epsilon", continuous_update=False),
            "num_classes": w.IntSlider(value=num_classes, min=2, max=100, step=1,
                                       description="classes C", continuous_update=False),
        },
        title="Cross-entropy with label smoothing",
    )


def memory_explorer(batch: int = 16, seq_len: int = 1024, budget_gb: float = 10.0) -> Explorer:
    """Sliders for batch, sequence length and budget over
    :func:`klviz.plots.crossentropy.logits_memory_figure`."""
    import ipywidgets as w

    return Explorer(
        logits_memory_figure,
        {
            "batch": w.IntSlider(value=batch, min=1, max=128, description="batch B",
                                 continuous_update=False),
            "seq_len": w.IntSlider(value=seq_len, min=128, max=8192, step=128,
                                   description="seq. n", continuous_update=False),
            "budget_gb": w.FloatSlider(value=budget_gb, min=1.0, max=80.0, step=1.0,
                                       description="budget GB", continuous_update=False),
        },
        title="Memory of the logits",
    )
