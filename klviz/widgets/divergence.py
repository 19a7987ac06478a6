"""Explorer of chapter ``ch-kl``, KL divergence: forward vs reverse KL fits to a bimodal mixture."""

from __future__ import annotations

from klviz.plots.divergence import mode_fit_figure
from klviz.widgets.base import Explorer

__all__ = ["mode_fit_explorer"]


def mode_fit_explorer(separation: float = 6.0, weight: float = 0.5) -> Explorer:
    """Sliders for the separation of the two modes and the left mode's weight over
    :func:`klviz.plots.divergence.mode_fit_figure` (the chapter's static figure); every move
    refits both Gaussians (a fraction of a second)."""
    import ipywidgets as w

    return Explorer(
        mode_fit_figure,
        {
            "separation": w.FloatSlider(value=separation, min=0.0, max=10.0, step=0.25,
                                        description="separation", continuous_update=False),
            "weight": w.FloatSlider(value=weight, min=0.05, max=0.95, step=0.05,
                                    description="weight", continuous_update=False),
        },
        title="Forward vs reverse KL",
    )
